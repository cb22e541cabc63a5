// The rules every swavlab image follows (issue 15): pinned base images, a non-root user, a HEALTHCHECK and the OCI
// labels. Each problem names the line and the reason.
import {
  type Dockerfile,
  finalStage,
  lastOf,
  mergedKeyValues,
  parseHealthcheck,
  words,
} from './dockerfile.js';

export const REQUIRED_LABELS = [
  'org.opencontainers.image.title',
  'org.opencontainers.image.description',
  'org.opencontainers.image.version',
  'org.opencontainers.image.revision',
  'org.opencontainers.image.source',
] as const;

/** Why `reference` is not a pinned image (an exact tag other than latest, or a digest); undefined when it is. */
export function unpinnedReason(reference: string): string | undefined {
  if (reference.includes('$')) return `${reference} uses a variable without a default`;
  if (/@sha256:[0-9a-f]{64}$/.test(reference)) return undefined;
  // The tag follows the last colon after the last slash (a colon before it belongs to a registry's port).
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon === -1) return `${reference} has no tag (it would pull latest)`;
  const tag = lastSegment.slice(colon + 1);
  if (tag === 'latest') return `${reference} uses the latest tag`;
  // A bare major version (node:20) or an OS name alone (debian:bookworm) moves; an exact tag has a dot or digits.
  if (!/\d+\.\d+/.test(tag) && !/\d{8}/.test(tag)) return `${reference}: tag ${tag} is not an exact version`;
  return undefined;
}

function isRoot(user: string): boolean {
  const name = user.split(':')[0] ?? '';
  return name === 'root' || name === '0' || name === '';
}

export function lintDockerfile(dockerfile: Dockerfile): string[] {
  const problems: string[] = [];
  const stageNames = new Set<string>();
  for (const stage of dockerfile.stages) {
    // A FROM naming an earlier stage builds on it; anything else is pulled from a registry.
    if (!stageNames.has(stage.base.toLowerCase())) {
      const reason = unpinnedReason(stage.base);
      if (reason !== undefined) problems.push(`line ${stage.from.line}: FROM ${reason}`);
    }
    if (stage.name !== undefined) stageNames.add(stage.name);
  }

  const image = finalStage(dockerfile);
  const user = lastOf(image, 'USER');
  if (user === undefined) {
    problems.push('the final stage has no USER: the container would run as root');
  } else if (isRoot(words(user.args)[0] ?? '')) {
    problems.push(`line ${user.line}: USER ${user.args} is root`);
  }

  const healthcheck = lastOf(image, 'HEALTHCHECK');
  if (healthcheck === undefined) {
    problems.push('the final stage has no HEALTHCHECK');
  } else if (parseHealthcheck(healthcheck.args).command === undefined) {
    problems.push(`line ${healthcheck.line}: HEALTHCHECK NONE disables the health check`);
  }

  const labels = mergedKeyValues(image, 'LABEL');
  for (const label of REQUIRED_LABELS) {
    if (!labels.get(label)) problems.push(`the final stage has no LABEL ${label}`);
  }
  return problems;
}
