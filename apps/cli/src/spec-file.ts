// Reads the JSON spec files given to `submit` and `grid`, and validates them locally with @swavlab/spec, so that
// a typo is reported with the file, the line and column or the field path before anything is sent.
import { readFile } from 'node:fs/promises';
import { expandGrid, type GridCell, type Issue, parseExperimentSpec, setAtPath } from '@swavlab/spec';
import { CliError, EXIT } from './errors.js';
import { findJsonSyntaxError } from './json-syntax.js';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, not a file',
};

/** `path: message` lines, the one format every field error is printed in. */
export function issueLines(issues: readonly Issue[]): string[] {
  return issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`));
}

/** The parsed content of a JSON file; errors name the file, and for bad JSON the line and column. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? (error as Error).message;
    throw new CliError(`${file}: cannot read the file: ${reason}`, EXIT.usage);
  }
  // Editors on some systems save a byte-order mark, which JSON.parse rejects.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '')
    throw new CliError(`${file}: the file is empty; expected a JSON object`, EXIT.usage);
  try {
    return JSON.parse(body);
  } catch (error) {
    const where = findJsonSyntaxError(body);
    const message = where
      ? `${file}:${where.line}:${where.column}: invalid JSON: ${where.reason}`
      : `${file}: invalid JSON: ${(error as Error).message}`;
    throw new CliError(message, EXIT.usage);
  }
}

function requireObject(file: string, value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(
      `${file}: expected a JSON object (${what}), got ${Array.isArray(value) ? 'an array' : typeof value}`,
      EXIT.usage,
    );
  }
  return value as Record<string, unknown>;
}

/** Where a submission comes from: a spec file, a recipe, `--set PATH=VALUE` overrides, or several of them. */
export interface SubmissionSource {
  /** A JSON experiment spec (may carry `priority`). */
  file?: string | undefined;
  /** A recipe the spec starts from; a `recipe` in the file is overridden. */
  recipe?: string | undefined;
  /** `PATH=VALUE` assignments applied last; VALUE is JSON when it parses as JSON, else a string. */
  sets?: readonly string[] | undefined;
}

/** `PATH=VALUE` as a path and a value: `optim.epochs=10` → 10, `eval.linear=null` → null, `data.path=/x` → "/x". */
export function parseAssignment(assignment: string): { path: string; value: unknown } {
  const eq = assignment.indexOf('=');
  const path = eq < 0 ? '' : assignment.slice(0, eq).trim();
  if (path === '') {
    throw new CliError(
      `--set ${JSON.stringify(assignment)}: expected PATH=VALUE, e.g. optim.epochs=10`,
      EXIT.usage,
    );
  }
  const text = assignment.slice(eq + 1);
  try {
    return { path, value: JSON.parse(text) };
  } catch {
    return { path, value: text };
  }
}

/**
 * A run submission: the spec (validated locally, recipe expanded by the server) plus the submission-only
 * `priority`. Errors name the file or the `--set` that is at fault.
 */
export async function readRunSubmission(source: SubmissionSource): Promise<Record<string, unknown>> {
  const what = source.file ?? 'the command line';
  let body = source.file
    ? requireObject(source.file, await readJsonFile(source.file), 'an experiment spec')
    : {};
  if (source.recipe !== undefined) body = { ...body, recipe: source.recipe };
  for (const assignment of source.sets ?? []) {
    const { path, value } = parseAssignment(assignment);
    try {
      body = setAtPath(body, path, value) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`--set ${path}: ${(error as Error).message}`, EXIT.usage);
    }
  }
  // `priority` belongs to the submission, not the spec; the server checks its range.
  const { priority: _priority, ...spec } = body;
  const parsed = parseExperimentSpec(spec);
  if (!parsed.ok) {
    throw new CliError(`${what}: invalid experiment spec`, EXIT.usage, issueLines(parsed.errors));
  }
  return body;
}

/** A grid spec read from `file`, with its expansion (every cell validated locally). */
export async function readGridSpec(
  file: string,
): Promise<{ body: Record<string, unknown>; cells: GridCell[] }> {
  const body = requireObject(file, await readJsonFile(file), 'a grid spec');
  const expansion = expandGrid(body);
  if (!expansion.ok) {
    throw new CliError(`${file}: invalid grid spec`, EXIT.usage, issueLines(expansion.errors));
  }
  return { body, cells: expansion.cells };
}
