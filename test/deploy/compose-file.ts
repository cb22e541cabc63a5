// Reads docker/compose.yaml for the deployment tests: the services' build, image, command, environment, secrets,
// volumes, ports, dependencies and profiles, in one normalised shape (list or map environments, short or long
// secret syntax). YAML anchors and merge keys are resolved as Compose resolves them.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';

const stringList = z.array(z.string());
const command = z.union([z.string(), stringList]);
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
  command: command.optional(),
  entrypoint: command.optional(),
  environment: z.union([z.record(z.string(), scalar.nullable()), stringList]).optional(),
  secrets: z
    .array(z.union([z.string(), z.object({ source: z.string(), target: z.string().optional() })]))
    .optional(),
  volumes: stringList.optional(),
  ports: stringList.optional(),
  depends_on: z.union([stringList, z.record(z.string(), z.object({ condition: z.string() }))]).optional(),
  profiles: stringList.optional(),
  healthcheck: z.object({ test: command }).passthrough().optional(),
  stop_grace_period: z.string().optional(),
  restart: z.string().optional(),
  deploy: z
    .object({
      resources: z
        .object({
          reservations: z
            .object({
              devices: z.array(z.object({ capabilities: stringList }).passthrough()).optional(),
            })
            .passthrough()
            .optional(),
        })
        .passthrough()
        .optional(),
    })
    .passthrough()
    .optional(),
});

const composeSchema = z.object({
  services: z.record(z.string(), serviceSchema.passthrough()),
  secrets: z.record(z.string(), z.object({ file: z.string() })).optional(),
  volumes: z.record(z.string(), z.unknown().nullable()).optional(),
});

export interface VolumeMount {
  /** The named volume, or the host path of a bind mount. */
  source: string;
  target: string;
  named: boolean;
}

export interface ComposeService {
  name: string;
  image: string | undefined;
  /** The Dockerfile's path relative to the build context, and the context relative to the compose file. */
  build: { context: string; dockerfile: string } | undefined;
  command: string[] | undefined;
  entrypoint: string[] | undefined;
  environment: Record<string, string>;
  /** Secret names; Compose mounts each at /run/secrets/NAME (or at its `target`). */
  secrets: { source: string; target: string }[];
  volumes: VolumeMount[];
  /** Container ports published on the host. */
  ports: { host: string; container: number }[];
  /** Service name → condition (`service_started` for the short form). */
  dependsOn: Record<string, string>;
  profiles: string[];
  healthcheck: string[] | undefined;
  stopGracePeriod: string | undefined;
  /** Compose's default is `no`. */
  restart: string;
  /** Whether it reserves GPUs (deploy.resources.reservations.devices with the gpu capability). */
  reservesGpus: boolean;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  /** Secret name → file, relative to the compose file. */
  secrets: Record<string, string>;
  volumes: string[];
}

/** A string command is split on spaces, as Compose does for commands without quotes. */
function argv(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value.split(/\s+/).filter((part) => part !== '') : value;
}

function environment(value: z.infer<typeof serviceSchema>['environment']): Record<string, string> {
  if (value === undefined) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.map((entry) => {
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, v === null ? '' : String(v)]));
}

function volume(spec: string, namedVolumes: ReadonlySet<string>): VolumeMount {
  const [source = '', target = ''] = spec.split(':');
  if (!target.startsWith('/')) throw new Error(`volume ${JSON.stringify(spec)}: expected SOURCE:/TARGET`);
  return { source, target, named: namedVolumes.has(source) };
}

function port(spec: string): { host: string; container: number } {
  const parts = spec.split(':');
  const container = Number((parts.at(-1) ?? '').split('/')[0]);
  if (!Number.isInteger(container)) throw new Error(`port ${JSON.stringify(spec)}: no container port`);
  return { host: parts.slice(0, -1).join(':'), container };
}

export function parseCompose(text: string): ComposeFile {
  const parsed = composeSchema.safeParse(parse(text, { merge: true }));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`compose file: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const namedVolumes = new Set(Object.keys(parsed.data.volumes ?? {}));
  const services = Object.fromEntries(
    Object.entries(parsed.data.services).map(([name, service]): [string, ComposeService] => [
      name,
      {
        name,
        image: service.image,
        build: service.build,
        command: argv(service.command),
        entrypoint: argv(service.entrypoint),
        environment: environment(service.environment),
        secrets: (service.secrets ?? []).map((secret) => {
          const source = typeof secret === 'string' ? secret : secret.source;
          const target = typeof secret === 'string' ? undefined : secret.target;
          return { source, target: target?.startsWith('/') ? target : `/run/secrets/${target ?? source}` };
        }),
        volumes: (service.volumes ?? []).map((spec) => volume(spec, namedVolumes)),
        ports: (service.ports ?? []).map(port),
        dependsOn: Array.isArray(service.depends_on)
          ? Object.fromEntries(service.depends_on.map((dependency) => [dependency, 'service_started']))
          : Object.fromEntries(
              Object.entries(service.depends_on ?? {}).map(([dependency, { condition }]) => [
                dependency,
                condition,
              ]),
            ),
        profiles: service.profiles ?? [],
        healthcheck: argv(service.healthcheck?.test),
        stopGracePeriod: service.stop_grace_period,
        restart: service.restart ?? 'no',
        reservesGpus: (service.deploy?.resources?.reservations?.devices ?? []).some((device) =>
          device.capabilities.includes('gpu'),
        ),
      },
    ]),
  );
  const secrets = Object.fromEntries(
    Object.entries(parsed.data.secrets ?? {}).map(([name, { file }]) => [name, file]),
  );
  return { services, secrets, volumes: [...namedVolumes] };
}

export async function loadCompose(path: string): Promise<ComposeFile> {
  return parseCompose(await readFile(path, 'utf8'));
}
