// Lint of docker/*.Dockerfile (issue 15): pinned base images, a non-root USER, a HEALTHCHECK and the OCI labels;
// and the lint itself on Dockerfiles that break each rule.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commandOf, finalStage, keyValues, lastOf, parseDockerfile, parseHealthcheck } from './dockerfile.js';
import { lintDockerfile, REQUIRED_LABELS, unpinnedReason } from './dockerfile-lint.js';

const DOCKER_DIR = fileURLToPath(new URL('../../docker/', import.meta.url));
const DOCKERFILES = readdirSync(DOCKER_DIR).filter((name) => name.endsWith('.Dockerfile'));

const GOOD = `ARG BASE=node:20.20.0-bookworm-slim
FROM \${BASE} AS build
RUN echo build
FROM build
LABEL ${REQUIRED_LABELS.map((label) => `${label}="x y"`).join(' \\\n  ')}
USER 10001:10001
HEALTHCHECK --interval=5s CMD ["node", "check.mjs"]
`;

describe('the images', () => {
  it('are the three of issue 15', () => {
    expect(DOCKERFILES.sort()).toEqual(['api.Dockerfile', 'worker-cpu.Dockerfile', 'worker-cuda.Dockerfile']);
  });

  for (const name of DOCKERFILES) {
    it(`${name} follows the rules`, () => {
      const dockerfile = parseDockerfile(readFileSync(join(DOCKER_DIR, name), 'utf8'));
      expect(lintDockerfile(dockerfile)).toEqual([]);
      // Multi-stage: the build tools stay in the build stage.
      expect(dockerfile.stages.length).toBeGreaterThan(1);
      const image = finalStage(dockerfile);
      expect(commandOf(lastOf(image, 'ENTRYPOINT')?.args ?? '')).toEqual(['/app/docker/entrypoint.sh']);
    });
  }
});

describe('the lint', () => {
  it('passes a Dockerfile that follows every rule', () => {
    expect(lintDockerfile(parseDockerfile(GOOD))).toEqual([]);
  });

  it.each([
    ['an untagged base', GOOD.replace('node:20.20.0-bookworm-slim', 'node'), 'has no tag'],
    ['the latest tag', GOOD.replace('node:20.20.0-bookworm-slim', 'node:latest'), 'uses the latest tag'],
    ['a moving tag', GOOD.replace('node:20.20.0-bookworm-slim', 'node:20-bookworm'), 'not an exact version'],
    ['an ARG without default', GOOD.replace('=node:20.20.0-bookworm-slim', ''), 'uses a variable'],
    ['no USER', GOOD.replace('USER 10001:10001\n', ''), 'no USER'],
    ['USER root', GOOD.replace('USER 10001:10001', 'USER root'), 'is root'],
    ['USER 0:0', GOOD.replace('USER 10001:10001', 'USER 0:0'), 'is root'],
    ['no HEALTHCHECK', GOOD.replace(/HEALTHCHECK.*\n/, ''), 'no HEALTHCHECK'],
    ['HEALTHCHECK NONE', GOOD.replace(/HEALTHCHECK.*\n/, 'HEALTHCHECK NONE\n'), 'disables'],
    ['a missing label', GOOD.replace(`${REQUIRED_LABELS[4]}="x y"`, 'other=1'), REQUIRED_LABELS[4]],
  ])('reports %s', (_what, text, reason) => {
    const problems = lintDockerfile(parseDockerfile(text));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(reason);
  });

  it('reads the final stage only: a USER in the build stage does not count', () => {
    const text = GOOD.replace('RUN echo build', 'USER 10001').replace('USER 10001:10001\n', '');
    expect(lintDockerfile(parseDockerfile(text))).toEqual([
      'the final stage has no USER: the container would run as root',
    ]);
  });

  it('accepts digests and registry ports', () => {
    expect(unpinnedReason(`node@sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(unpinnedReason('registry.local:5000/team/node:20.20.0')).toBeUndefined();
    expect(unpinnedReason('registry.local:5000/team/node')).toContain('has no tag');
    expect(unpinnedReason('debian:bookworm-20250908-slim')).toBeUndefined();
  });
});

describe('the reader', () => {
  it('joins continuations, skips comment lines between them and keeps line numbers', () => {
    const dockerfile = parseDockerfile(
      'FROM a:1.0\n# note\nRUN one \\\n  # inside\n  two\nCMD ["x", "y z"]\n',
    );
    const [run, cmd] = finalStage(dockerfile).instructions;
    expect(run).toEqual({ keyword: 'RUN', args: 'one two', line: 3 });
    expect(commandOf(cmd?.args ?? '')).toEqual(['x', 'y z']);
    expect(commandOf('echo "$HOME"')).toEqual(['/bin/sh', '-c', 'echo "$HOME"']);
  });

  it('reads key=value lists with quotes and the legacy ENV form', () => {
    expect(keyValues('a=1 b="two words" c=\'x\\y\' d=e\\ f')).toEqual(
      new Map([
        ['a', '1'],
        ['b', 'two words'],
        ['c', 'x\\y'],
        ['d', 'e f'],
      ]),
    );
    expect(keyValues('PATH /usr/bin:/bin')).toEqual(new Map([['PATH', '/usr/bin:/bin']]));
  });

  it('reads HEALTHCHECK options and forms', () => {
    const check = parseHealthcheck('--interval=15s --retries=3 CMD curl -f http://x/');
    expect(check.options).toEqual(
      new Map([
        ['interval', '15s'],
        ['retries', '3'],
      ]),
    );
    expect(check.command).toEqual(['/bin/sh', '-c', 'curl -f http://x/']);
    expect(parseHealthcheck('NONE').command).toBeUndefined();
  });

  it('refuses what it cannot read correctly', () => {
    expect(() => parseDockerfile('RUN x\n')).toThrow('line 1: RUN before the first FROM');
    expect(() => parseDockerfile('FROM a:1.0\nRUN x \\\n')).toThrow('ends with');
    expect(() => parseDockerfile('FROM a:1.0\nRUN <<EOF\nx\nEOF\n')).toThrow('heredocs');
    expect(() => parseDockerfile('# escape=`\nFROM a:1.0\n')).toThrow('escape directive');
  });
});
