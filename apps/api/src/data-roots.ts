// Confinement of everything a spec reads (dataset folders, class lists, subset lists, initial weights) to
// SWAVLAB_DATA_ROOTS, checked at submission so that a run that could never read its inputs (or would read outside
// the allowed folders) is refused up front. Mirrors the trainer's resolve_data_path: relative paths are tried
// against each root in order; symlinks are followed.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { type ExperimentSpec, getAtPath, type Issue, PATH_SOURCES } from '@swavlab/spec';
import { validationProblem } from './problem.js';

export type DataPathCheck = { ok: true; resolved: string } | { ok: false; message: string };

async function realOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}

/** What a rooted path must name: a dataset folder, or a file (class list, subset list, checkpoint). */
export type RootedKind = 'folder' | 'file';

async function isKind(path: string, kind: RootedKind): Promise<boolean> {
  try {
    const entry = await stat(path);
    return kind === 'folder' ? entry.isDirectory() : entry.isFile();
  } catch {
    return false;
  }
}

function inside(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
}

/**
 * Resolves a path of a spec to an existing folder (or file) inside one of `roots`. The message of a failure
 * says why (no roots configured, escapes the roots through `..` or a symlink, not an existing folder or file).
 */
export async function checkDataPath(
  path: string,
  roots: readonly string[],
  kind: RootedKind = 'folder',
): Promise<DataPathCheck> {
  if (roots.length === 0) {
    return {
      ok: false,
      message:
        'SWAVLAB_DATA_ROOTS is not set on the server; what a run reads must live under one of its folders',
    };
  }
  if (path.includes('\0')) return { ok: false, message: 'must not contain NUL characters' };
  const realRoots = (await Promise.all(roots.map(realOrNull))).filter((r): r is string => r !== null);
  const listed = roots.join(':');
  const candidates = isAbsolute(path) ? [path] : roots.map((root) => join(root, path));
  let escaped = false;
  for (const candidate of candidates) {
    const resolved = await realOrNull(candidate);
    if (resolved === null) {
      // A path that does not exist still must not point outside the roots lexically (`../../etc`).
      if (!inside(join(candidate), roots)) escaped = true;
      continue;
    }
    if (!inside(resolved, realRoots)) {
      escaped = true;
      continue;
    }
    if (await isKind(resolved, kind)) return { ok: true, resolved };
  }
  if (escaped)
    return { ok: false, message: `${JSON.stringify(path)} resolves outside SWAVLAB_DATA_ROOTS (${listed})` };
  return {
    ok: false,
    message: `${JSON.stringify(path)} is not an existing ${kind} under SWAVLAB_DATA_ROOTS (${listed})`,
  };
}

/** The spec fields that name something under the data roots, and what each must be. */
export const ROOTED_FIELDS: readonly { path: string; kind: RootedKind }[] = [
  { path: 'data.path', kind: 'folder' },
  { path: 'data.classes_file', kind: 'file' },
  { path: 'model.init_from', kind: 'file' },
  { path: 'eval.semisup.subset_file', kind: 'file' },
];

type RootedSpec = Pick<ExperimentSpec, 'data' | 'model' | 'eval'>;

/** The rooted paths `spec` reads: `[field, value, kind]` (a `data.path` only for sources that read one). */
export function rootedPaths(spec: RootedSpec): { field: string; value: string; kind: RootedKind }[] {
  const out: { field: string; value: string; kind: RootedKind }[] = [];
  for (const { path, kind } of ROOTED_FIELDS) {
    const value = getAtPath(spec, path);
    if (typeof value !== 'string') continue;
    if (path === 'data.path' && !(PATH_SOURCES as readonly string[]).includes(spec.data.source)) continue;
    out.push({ field: path, value, kind });
  }
  return out;
}

/**
 * Rejects (400) a spec that reads a path outside the roots or one that does not exist. `where` names the field
 * in the request (the spec's own path by default).
 */
export async function requireSpecPaths(
  spec: RootedSpec,
  roots: readonly string[],
  where: (field: string) => string = (field) => field,
): Promise<void> {
  const problems: Issue[] = [];
  for (const { field, value, kind } of rootedPaths(spec)) {
    const check = await checkDataPath(value, roots, kind);
    if (!check.ok) problems.push({ path: where(field), message: check.message });
  }
  if (problems.length > 0) throw validationProblem(problems, 'request body');
}
