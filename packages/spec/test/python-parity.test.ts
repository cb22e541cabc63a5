import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatCrops,
  hashValidSpec,
  type Issue,
  parseExperimentSpec,
  RECIPE_NAMES,
  SPEC_LEAF_PATHS,
  setAtPath,
  toJsonSchema,
} from '../src/index.js';
import { cropGroups, specInput } from './arbitraries.js';

// The trainer re-validates every spec from the artefacts generated out of this package (spec_schema.json): both
// validators must give every input the same verdict, the same error paths and, when valid, the same spec and hash.

type Node = { [key: string]: unknown };
type PythonVerdict = { ok: true; spec: unknown; hash: string } | { ok: false; errors: Issue[] };

const PYTHON = process.env.PYTHON_BIN ?? 'python3';
const RUNNER = fileURLToPath(new URL('./python/validate_batch.py', import.meta.url));
const SEED = 18;
const work = mkdtempSync(join(tmpdir(), 'swavlab-parity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Leaf nodes of the JSON Schema with their dotted paths, through object properties and nullable objects. */
function leaves(node: Node, prefix = ''): [string, Node][] {
  const branches = (node.anyOf as Node[] | undefined) ?? [node];
  const object = branches.find((b) => b.type === 'object' && b.properties);
  if (!object) return [[prefix, node]];
  return Object.entries(object.properties as Record<string, Node>).flatMap(([key, child]) =>
    leaves(child, prefix ? `${prefix}.${key}` : key),
  );
}

/** Values at and just beyond a number's bounds, inclusive or exclusive. */
function numberEdges(node: Node, integer: boolean): unknown[] {
  const step = (x: number) => (integer ? 1 : Math.max(Math.abs(x) * 1e-9, 1e-12));
  const edges: unknown[] = [];
  for (const [key, below] of [
    ['minimum', true],
    ['exclusiveMinimum', true],
    ['maximum', false],
    ['exclusiveMaximum', false],
  ] as const) {
    const bound = node[key];
    if (typeof bound !== 'number') continue;
    edges.push(bound, below ? bound - step(bound) : bound + step(bound));
    edges.push(below ? bound + step(bound) : bound - step(bound));
  }
  if (integer) edges.push(((node.minimum as number | undefined) ?? 0) + 0.5);
  return [...edges, String(edges[0] ?? 1), true, [], {}];
}

function stringEdges(node: Node): unknown[] {
  if (Array.isArray(node.enum)) {
    const [first] = node.enum as string[];
    return [...node.enum, (first ?? '').toUpperCase(), `${first} `, 5, null];
  }
  const min = (node.minLength as number | undefined) ?? 0;
  const max = (node.maxLength as number | undefined) ?? 64;
  // zod counts code points (an astral character is one), as Python's len does.
  const astral = '😀'.repeat(Math.ceil(max / 2));
  const edges = ['a'.repeat(Math.max(min - 1, 0)), 'a'.repeat(min), 'a'.repeat(max), 'a'.repeat(max + 1)];
  return [...edges, astral, `${astral}😀`, 'a/b', '..', '.', 'a\nb', 'a b', 7, false];
}

function arrayEdges(node: Node): unknown[] {
  const items = node.items as Node;
  const sample = items.type === 'integer' ? 1 : 'a';
  const min = (node.minItems as number | undefined) ?? 0;
  const max = (node.maxItems as number | undefined) ?? 4;
  const distinct = (n: number) =>
    Array.from({ length: n }, (_, i) => (typeof sample === 'number' ? i + 1 : `c${i}`));
  return [
    distinct(Math.max(min - 1, 0)),
    distinct(min),
    distinct(max),
    distinct(max + 1),
    [sample, sample],
    'a',
  ];
}

/** Every leaf at its bounds, just past them, and with values of the wrong type. */
function boundaryCases(): unknown[] {
  return leaves(toJsonSchema() as Node).flatMap(([path, node]) => {
    const branches = (node.anyOf as Node[] | undefined) ?? [node];
    const values = branches.flatMap((branch): unknown[] => {
      if (branch.type === 'integer') return numberEdges(branch, true);
      if (branch.type === 'number') return 'const' in branch ? [branch.const] : numberEdges(branch, false);
      if (branch.type === 'string') return stringEdges(branch);
      if (branch.type === 'array') return arrayEdges(branch);
      if (branch.type === 'boolean') return [true, false, 0, 'true'];
      return [null];
    });
    return [...values, { unknown: 1 }].map((value) => setAtPath({}, path, value));
  });
}

/** Inputs that break one cross-field rule each, or sit exactly on its edge. */
const RULE_CASES: unknown[] = [
  { data: { source: 'folder' } },
  { data: { source: 'digits', path: 'x' } },
  { data: { source: 'stl10', path: 'x', classes: ['a', 'b'] } },
  { data: { source: 'imagefolder', path: 'x', classes: ['a', 'b', 'a', 'b'], classes_file: 'c.txt' } },
  { data: { source: 'imagefolder', path: 'x', classes: ['a', '..'] } },
  { data: { source: 'cifar10', path: 'x', classes_file: 'c.txt' } },
  { swav: { crops: '2x32+2x16', crops_for_assign: [0, 4, 3, 4, 0] } },
  { swav: { crops: '1x32+1x16', crops_for_assign: [1, 2] } },
  { swav: { crops: '1x32' } },
  {
    swav: {
      crops: [
        { count: 1, size: 32, min_scale: 0.5, max_scale: 0.5 },
        { count: 1, size: 8 },
      ],
    },
  },
  { swav: { queue_length: 3840 }, optim: { batch_size: 256 }, runtime: { gpus: 4 } },
  { swav: { queue_length: 4096 }, optim: { batch_size: 256 }, runtime: { gpus: 4 } },
  { swav: { queue_length: 96 }, optim: { batch_size: 16 }, runtime: { processes: 4 } },
  { swav: { queue_length: 100 }, optim: { batch_size: 0 } },
  { runtime: { gpus: 2, processes: 2 } },
  { runtime: { device: 'cpu', gpus: 2, precision: 'fp16' } },
  { runtime: { device: 'cuda', processes: 2 } },
  { runtime: { processes: 2, precision: 'fp16' } },
  { runtime: { device: 'auto', precision: 'fp16' } },
  { optim: { epochs: 5, warmup_epochs: 6 } },
  { optim: { epochs: 0, warmup_epochs: 6 } },
  { optim: { epochs: 6, warmup_epochs: 6 } },
  { eval: { semisup: { decay_epochs: [5, 5, 3, 8] } } },
  { eval: { semisup: { fraction: 0.01, decay_epochs: [] } } },
  { eval: { semisup: { fraction: 0.5 } } },
  { seed: -1, model: { feat_dim: 1 }, optim: { optimizer: 'adam' }, tags: ['ok', 'bad tag'] },
  { epochs: 3, data: { sorce: 'digits' }, optim: { epochs: 5 } },
  { name: 'x', recipe: 'swav-bs512' },
  [1],
  'spec',
  null,
  ...RECIPE_NAMES.flatMap((recipe) => [{ recipe }, { recipe, data: { path: 'ds' }, optim: { epochs: 400 } }]),
];

const MALFORMED_CROPS = [
  '',
  '2x',
  'x224',
  '2*224',
  '2x224+',
  '2x224 6x96',
  '2X224',
  '02x224',
  '0x224+2x2000',
  '2x224(0.1)',
  '2x224(.1-1)',
  '2x224(0.5-0.2)+2x16',
  '1234567890x8',
  '2x224(0.1000000000000000000000000000000001-1)',
  '2x224(1e-400-1)',
  '2x224(0.1-1e400)',
  '1x224',
];

/** Generated specs with one leaf replaced by an arbitrary JSON value. */
const mutated = fc
  .tuple(specInput, fc.constantFrom(...SPEC_LEAF_PATHS), fc.jsonValue({ maxDepth: 2 }))
  .map(([spec, path, value]) => {
    try {
      return setAtPath(spec as Record<string, unknown>, path, value);
    } catch {
      return spec; // the path runs through a section set to null: keep the valid spec
    }
  });

function runPython(inputs: unknown[]): PythonVerdict[] {
  const source = join(work, 'in.json');
  const target = join(work, 'out.json');
  writeFileSync(source, JSON.stringify(inputs));
  const run = spawnSync(PYTHON, [RUNNER, source, target], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${PYTHON} ${RUNNER} failed (${run.status}): ${run.stderr}`);
  return JSON.parse(readFileSync(target, 'utf8')) as PythonVerdict[];
}

const paths = (errors: readonly Issue[]) => [...new Set(errors.map((e) => e.path))].sort();

describe('the Python trainer’s spec validation', () => {
  const generated = fc.sample(specInput, { numRuns: 1200, seed: SEED });
  const crops = fc
    .sample(cropGroups, { numRuns: 300, seed: SEED })
    .map((g) => ({ swav: { crops: formatCrops(g) } }));
  const cases = [
    ...generated,
    ...fc.sample(mutated, { numRuns: 1500, seed: SEED }),
    ...boundaryCases(),
    ...RULE_CASES,
    ...crops,
    ...MALFORMED_CROPS.map((notation) => ({ swav: { crops: notation } })),
  ];
  // Both sides read the same JSON text (which also drops undefined and turns -0 into 0).
  const inputs = JSON.parse(JSON.stringify(cases)) as unknown[];

  it('agrees with zod on every input: verdict, error paths, the validated spec and its hash', () => {
    const python = runPython(inputs);
    expect(python).toHaveLength(inputs.length);
    const disagreements = inputs.flatMap((input, i) => {
      const ts = parseExperimentSpec(input);
      const py = python[i];
      const tsSide = ts.ok
        ? `${hashValidSpec(ts.spec)} ${JSON.stringify(sorted(ts.spec))}`
        : `errors at ${paths(ts.errors).join(', ')}`;
      const pySide = !py
        ? 'no verdict'
        : py.ok
          ? `${py.hash} ${JSON.stringify(sorted(py.spec))}`
          : `errors at ${paths(py.errors).join(', ')}`;
      if (tsSide === pySide) return [];
      const shown = JSON.stringify(input).slice(0, 300);
      return [`input ${shown}\n  zod:    ${tsSide.slice(0, 300)}\n  Python: ${pySide.slice(0, 300)}`];
    });
    expect(disagreements.slice(0, 5)).toEqual([]);
    const valid = inputs.filter((input) => parseExperimentSpec(input).ok).length;
    expect(valid).toBeGreaterThanOrEqual(1000);
    expect(inputs.length - valid).toBeGreaterThanOrEqual(1000);
  });
});

/** The value with object keys sorted, so that key order does not count. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
  );
}
