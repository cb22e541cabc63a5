// Confinement of `folder` datasets to SWAVLAB_DATA_ROOTS, checked at submission so that a run that could never
// read its data (or would read outside the allowed folders) is refused up front. Mirrors the trainer's
// resolve_data_path: relative paths are tried against each root in order; symlinks are followed.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { validationProblem } from './problem.js';

export type DataPathCheck = { ok: true; resolved: string } | { ok: false; message: string };

async function realOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function inside(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
}

/**
 * Resolves a spec's `data.path` to an existing directory inside one of `roots`. The message of a failure
 * says why (no roots configured, escapes the roots through `..` or a symlink, not an existing directory).
 */
export async function checkDataPath(path: string, roots: readonly string[]): Promise<DataPathCheck> {
  if (roots.length === 0) {
    return {
      ok: false,
      message:
        'SWAVLAB_DATA_ROOTS is not set on the server; folder datasets must live under one of its folders',
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
    if (await isDirectory(resolved)) return { ok: true, resolved };
  }
  if (escaped)
    return { ok: false, message: `${JSON.stringify(path)} resolves outside SWAVLAB_DATA_ROOTS (${listed})` };
  return {
    ok: false,
    message: `${JSON.stringify(path)} is not an existing folder under SWAVLAB_DATA_ROOTS (${listed})`,
  };
}

/** Rejects (400, naming `where`) a folder dataset whose path is not an existing folder inside the roots. */
export async function requireDataPath(
  data: { source: string; path?: string | undefined },
  roots: readonly string[],
  where: string,
): Promise<void> {
  if (data.source !== 'folder' || data.path === undefined) return;
  const check = await checkDataPath(data.path, roots);
  if (!check.ok) throw validationProblem([{ path: where, message: check.message }], 'request body');
}
