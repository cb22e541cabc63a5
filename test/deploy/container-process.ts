// What a compose service's container would run (the image's ENTRYPOINT and CMD unless compose overrides them, the
// image's ENV under compose's environment, its WORKDIR and HEALTHCHECK), and the same turned into a process on this
// machine by explicit rewrites of what only makes sense inside a container.
import { existsSync } from 'node:fs';
import type { ComposeService } from './compose-file.js';
import {
  commandOf,
  type Dockerfile,
  finalStage,
  lastOf,
  mergedKeyValues,
  parseHealthcheck,
  words,
} from './dockerfile.js';

export interface ContainerSpec {
  service: string;
  workdir: string;
  argv: string[];
  env: Record<string, string>;
  /** The image's HEALTHCHECK command, or compose's `healthcheck.test` (after its CMD / CMD-SHELL word). */
  healthcheck: string[] | undefined;
  /** EXPOSE of the image. */
  exposed: number[];
}

function healthcheckOf(service: ComposeService, dockerfile: Dockerfile): string[] | undefined {
  if (service.healthcheck !== undefined) {
    const [kind, ...rest] = service.healthcheck;
    if (kind === 'CMD') return rest;
    if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
    throw new Error(`${service.name}: healthcheck.test must start with CMD or CMD-SHELL`);
  }
  const instruction = lastOf(finalStage(dockerfile), 'HEALTHCHECK');
  return instruction === undefined ? undefined : parseHealthcheck(instruction.args).command;
}

/** Docker's rules: compose's entrypoint replaces the image's and drops its CMD; compose's command replaces CMD. */
export function containerOf(service: ComposeService, dockerfile: Dockerfile): ContainerSpec {
  const image = finalStage(dockerfile);
  const imageEntrypoint = lastOf(image, 'ENTRYPOINT');
  const imageCmd = lastOf(image, 'CMD');
  const entrypoint = service.entrypoint ?? (imageEntrypoint ? commandOf(imageEntrypoint.args) : []);
  const cmd =
    service.command ?? (service.entrypoint === undefined && imageCmd ? commandOf(imageCmd.args) : []);
  const workdir = lastOf(image, 'WORKDIR')?.args ?? '/';
  const env = { ...Object.fromEntries(mergedKeyValues(image, 'ENV')), ...service.environment };
  for (const [name, value] of Object.entries(env)) {
    // Compose and Docker would substitute these; this reader does not, so it refuses them.
    if (value.includes('$')) throw new Error(`${service.name}: ${name}=${value} uses a variable`);
  }
  const exposed = image.instructions
    .filter((instruction) => instruction.keyword === 'EXPOSE')
    .flatMap((instruction) => words(instruction.args).map((port) => Number(port.split('/')[0])));
  return {
    service: service.name,
    workdir,
    argv: [...entrypoint, ...cmd],
    env,
    healthcheck: healthcheckOf(service, dockerfile),
    exposed,
  };
}

export interface Rewrites {
  /** Container path → path here; a value equal to the path or below it is rewritten (longest path first). */
  paths: Record<string, string>;
  /** Variables replaced (a value) or removed (undefined), and variables added. */
  env: Record<string, string | undefined>;
}

function rewritePath(value: string, paths: [string, string][]): string {
  for (const [from, to] of paths) {
    if (value === from) return to;
    if (value.startsWith(`${from}/`)) return `${to}${value.slice(from.length)}`;
  }
  return value;
}

/** The container as a local process: paths, then variables rewritten as `rewrites` says. */
export function localise(container: ContainerSpec, rewrites: Rewrites): ContainerSpec {
  const paths = Object.entries(rewrites.paths).sort(([a], [b]) => b.length - a.length);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(container.env)) env[name] = rewritePath(value, paths);
  for (const [name, value] of Object.entries(rewrites.env)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return {
    ...container,
    workdir: rewritePath(container.workdir, paths),
    argv: container.argv.map((arg) => rewritePath(arg, paths)),
    env,
    healthcheck: container.healthcheck?.map((arg) => rewritePath(arg, paths)),
  };
}

/**
 * What in a localised container still points into a container: absolute paths that do not exist here, and URLs
 * whose host is a compose service name. `local` names variables that hold this machine's values (PATH).
 */
export function leftovers(
  container: ContainerSpec,
  serviceNames: readonly string[],
  local: readonly string[] = [],
): string[] {
  const values = [
    ...Object.entries(container.env)
      .filter(([name]) => !local.includes(name))
      .map(([name, value]) => [`${name}=${value}`, value] as const),
    ...[...container.argv, ...(container.healthcheck ?? []), container.workdir].map(
      (value) => [value, value] as const,
    ),
  ];
  return values
    .filter(([, value]) => {
      if (value.startsWith('/')) return !existsSync(value);
      const host = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^:/?#]+)/i.exec(value)?.[1];
      return host !== undefined && serviceNames.includes(host);
    })
    .map(([shown]) => shown);
}
