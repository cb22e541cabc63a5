// The Kubernetes manifests of infra/k8s as the deployment tests see them: an overlay rendered by `kubectl
// kustomize` (after the user's step of writing the secrets file from its example), each object checked against
// the JSON schemas of the `kubernetes-models` packages (types, required fields, enums) and, because those schemas
// accept any unknown field, type-checked by the TypeScript compiler against the same packages' interfaces, whose
// excess-property check names a misspelt or misplaced field.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S_DIR = join(REPO_ROOT, 'infra/k8s');
export const KUBECTL = '/usr/bin/kubectl';

/** A rendered object; the fields the tests read are checked where they are read. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** The packages that model each apiVersion: where the class is (validation) and the module to type-check with. */
const MODELS: Record<string, { module: Record<string, unknown>; specifier: string }> = {
  v1: { module: core, specifier: 'kubernetes-models/v1' },
  'apps/v1': { module: apps, specifier: 'kubernetes-models/apps/v1' },
  'batch/v1': { module: batch, specifier: 'kubernetes-models/batch/v1' },
  'networking.k8s.io/v1': { module: networking, specifier: 'kubernetes-models/networking.k8s.io/v1' },
  'policy/v1': { module: policy, specifier: 'kubernetes-models/policy/v1' },
  'keda.sh/v1alpha1': { module: keda, specifier: '@kubernetes-models/keda/keda.sh/v1alpha1' },
};

const execFileAsync = promisify(execFile);

export const OVERLAYS = ['cpu-dev', 'gpu'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/**
 * Copies infra/k8s into a temporary folder; with `withSecrets`, writes every overlay's secrets/*.env from its
 * .env.example as the README tells users to. Returns the copy and its cleanup.
 */
export async function copyOfK8s(withSecrets: boolean): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'swavlab-k8s-'));
  await cp(K8S_DIR, dir, { recursive: true, filter: (source) => !source.endsWith('.env') });
  if (withSecrets) {
    for (const overlay of OVERLAYS) {
      const secrets = join(dir, 'overlays', overlay, 'secrets');
      for (const name of await readdir(secrets)) {
        if (name.endsWith('.env.example'))
          await cp(join(secrets, name), join(secrets, name.replace(/\.example$/, '')));
      }
    }
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `kubectl kustomize` of an overlay folder: the objects, or kubectl's error (rejects with its stderr). */
export async function kustomize(overlayDir: string): Promise<K8sObject[]> {
  const { stdout } = await execFileAsync(KUBECTL, ['kustomize', overlayDir], {
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout).map((document) => {
    if (document.errors.length > 0) throw new Error(`kustomize output: ${document.errors[0]?.message}`);
    return document.toJS() as K8sObject;
  });
}

export function describeObject(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

/** Secret data as the API server decodes it: kustomize folds long base64 values over lines, which Go ignores. */
function unfolded(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || typeof object.data !== 'object' || object.data === null) return object;
  const data = Object.entries(object.data as Record<string, string>).map(([key, value]) => [
    key,
    value.replace(/\s/g, ''),
  ]);
  return { ...object, data: Object.fromEntries(data) };
}

/** Schema problems of `object` (kubernetes-models' validate); an apiVersion or kind without a model is one. */
export function schemaProblems(object: K8sObject): string[] {
  const model = MODELS[object.apiVersion]?.module[object.kind];
  if (typeof model !== 'function')
    return [`${describeObject(object)}: no model for ${object.apiVersion} ${object.kind}`];
  const Model = model as new (data: object) => { validate(): void };
  try {
    new Model(unfolded(object)).validate();
    return [];
  } catch (error) {
    return [`${describeObject(object)}: ${(error as Error).message}`];
  }
}

/**
 * Type-checks the objects as literals of the models' interfaces (`IDeployment`, `IScaledObject`, …): unknown and
 * misplaced fields are errors. Each problem names the object.
 */
export function typeProblems(objects: readonly K8sObject[]): string[] {
  const file = join(REPO_ROOT, 'test/deploy/rendered-manifests.generated.ts');
  const lines: string[] = [];
  const owners: { line: number; object: K8sObject }[] = [];
  const imports = new Map<string, Set<string>>();
  let at = 0;
  objects.forEach((object, i) => {
    const specifier = MODELS[object.apiVersion]?.specifier;
    if (specifier === undefined) return;
    const types = imports.get(specifier) ?? new Set<string>();
    types.add(`I${object.kind}`);
    imports.set(specifier, types);
    const text = `export const object${i}: I${object.kind} = ${JSON.stringify(object, null, 1)};`;
    owners.push({ line: at, object });
    lines.push(text);
    at += text.split('\n').length;
  });
  const header = [...imports].map(
    ([specifier, types]) => `import type { ${[...types].join(', ')} } from '${specifier}';`,
  );
  const source = [...header, ...lines].join('\n');
  const offset = header.length;

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== file || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const owner = owners.findLast((candidate) => candidate.line + offset <= line);
    return owner === undefined ? message : `${describeObject(owner.object)}: ${message}`;
  });
}
