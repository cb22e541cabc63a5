import {
  getAtPath,
  gridToJsonSchema,
  parseCrops,
  parseExperimentSpec,
  SPEC_LEAF_PATHS,
  toJsonSchema,
} from '@swavlab/spec';
import { describe, expect, it } from 'vitest';

type Node = { [key: string]: unknown };

/** Leaf paths of a JSON Schema with their nodes, descending into object properties and object branches of anyOf. */
function schemaLeaves(node: Node, prefix = ''): [string, Node][] {
  const branches = (node.anyOf as Node[] | undefined) ?? [node];
  const object = branches.find((b) => b.type === 'object' && b.properties);
  if (!object) return [[prefix, node]];
  return Object.entries(object.properties as Record<string, Node>).flatMap(([key, child]) =>
    schemaLeaves(child, prefix ? `${prefix}.${key}` : key),
  );
}

function objectNodes(node: unknown): Node[] {
  if (Array.isArray(node)) return node.flatMap(objectNodes);
  if (node === null || typeof node !== 'object') return [];
  const here = (node as Node).type === 'object' && (node as Node).properties ? [node as Node] : [];
  return [...here, ...Object.values(node).flatMap(objectNodes)];
}

describe('toJsonSchema', () => {
  const schema = toJsonSchema() as Node;

  it('is draft 2020-12 plain JSON', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('describes exactly the spec leaf fields, every object closed to unknown keys', () => {
    expect(
      schemaLeaves(schema)
        .map(([path]) => path)
        .sort(),
    ).toEqual([...SPEC_LEAF_PATHS].sort());
    const objects = objectNodes(schema);
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) expect(object.additionalProperties).toBe(false);
  });

  it('carries the same defaults that parsing applies', () => {
    const result = parseExperimentSpec({});
    if (!result.ok) throw new Error('defaults rejected');
    for (const [path, node] of schemaLeaves(schema)) {
      const applied = getAtPath(result.spec, path);
      // Fields of a section that defaults to null (eval.semisup) have defaults for when it is given.
      const parts = path.split('.');
      const inNullSection = parts.some(
        (_, i) => i > 0 && getAtPath(result.spec, parts.slice(0, i).join('.')) === null,
      );
      if (inNullSection) continue;
      if (path === 'swav.crops') expect(parseCrops(node.default as string)).toEqual(applied);
      else if (applied === undefined) expect(node.default, path).toBeUndefined();
      else expect(node.default, path).toEqual(applied);
    }
  });

  it('states the bounds of every field', () => {
    const leaves = Object.fromEntries(schemaLeaves(schema));
    expect(leaves['swav.prototypes']).toMatchObject({ type: 'integer', minimum: 2, maximum: 200_000 });
    expect(leaves['swav.epsilon']).toMatchObject({ type: 'number', minimum: 0.001, maximum: 10 });
    expect(leaves['optim.momentum']).toMatchObject({ minimum: 0, exclusiveMaximum: 1 });
    expect(leaves['swav.assignment']).toMatchObject({ enum: ['soft', 'hard'] });
  });
});

describe('gridToJsonSchema', () => {
  const grid = gridToJsonSchema() as Node;

  it('requires base and axes and describes the base as an experiment spec', () => {
    expect(grid.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(grid.required).toEqual(['base', 'axes']);
    const { $schema: _, ...spec } = toJsonSchema() as Node;
    expect((grid.properties as Node).base).toEqual(spec);
    expect((grid.properties as Node).metric).toMatchObject({ default: { name: 'knn_top1@20', goal: 'max' } });
  });
});
