// infra/ci/images.yml (the workflow that pushes the images on tags) stays in step with docker/: it builds every
// Dockerfile, passes the build arguments the images' labels read, and pushes under the names compose.yaml pulls.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadCompose } from './compose-file.js';
import { parseDockerfile } from './dockerfile.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKER_DIR = join(REPO_ROOT, 'docker');

const workflowSchema = z.object({
  on: z.object({ push: z.object({ tags: z.array(z.string()) }) }),
  permissions: z.record(z.string(), z.string()),
  jobs: z.object({
    image: z.object({
      strategy: z.object({ matrix: z.object({ image: z.array(z.string()) }) }),
      steps: z.array(
        z.object({
          id: z.string().optional(),
          uses: z.string().optional(),
          run: z.string().optional(),
          with: z.unknown().optional(),
        }),
      ),
    }),
  }),
});
const buildStepSchema = z.object({ file: z.string(), push: z.boolean(), 'build-args': z.string() });

const workflow = workflowSchema.parse(parse(readFileSync(join(REPO_ROOT, 'infra/ci/images.yml'), 'utf8')));
const images = readdirSync(DOCKER_DIR)
  .filter((name) => name.endsWith('.Dockerfile'))
  .map((name) => name.replace(/\.Dockerfile$/, ''));

describe('infra/ci/images.yml', () => {
  it('builds every image of docker/ on version tags, with permission to push packages', () => {
    expect([...workflow.jobs.image.strategy.matrix.image].sort()).toEqual(images.sort());
    expect(workflow.on.push.tags).toEqual(['v*.*.*']);
    expect(workflow.permissions.packages).toBe('write');
  });

  it('passes the build arguments the images label themselves with', () => {
    const step = workflow.jobs.image.steps.find((candidate) =>
      candidate.uses?.startsWith('docker/build-push-action'),
    );
    const build = buildStepSchema.parse(step?.with);
    expect(build.file).toBe(`docker/\${{ matrix.image }}.Dockerfile`);
    expect(build.push).toBe(true);
    const passed = build['build-args'].split('\n').map((line) => line.trim().split('=')[0]);
    for (const image of images) {
      const text = readFileSync(join(DOCKER_DIR, `${image}.Dockerfile`), 'utf8');
      const stage = parseDockerfile(text).stages.at(-1);
      const args = (stage?.instructions ?? [])
        .filter((instruction) => instruction.keyword === 'ARG')
        .map((instruction) => instruction.args.split('=')[0]);
      expect(passed, image).toEqual(expect.arrayContaining(args));
    }
  });

  it('pushes under the names docker/compose.yaml uses with SWAVLAB_IMAGE_PREFIX=ghcr.io/OWNER/swavlab', async () => {
    const nameStep = workflow.jobs.image.steps.find((candidate) => candidate.id === 'name');
    expect(nameStep?.run).toContain(`/swavlab/\${{ matrix.image }}`);
    const compose = await loadCompose(join(DOCKER_DIR, 'compose.yaml'));
    for (const service of Object.values(compose.services)) {
      if (service.build === undefined) continue;
      const image = service.build.dockerfile.replace(/^docker\//, '').replace(/\.Dockerfile$/, '');
      expect(service.image, service.name).toBe(
        `\${SWAVLAB_IMAGE_PREFIX:-swavlab}/${image}:\${SWAVLAB_TAG:-local}`,
      );
    }
  });
});
