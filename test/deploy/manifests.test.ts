// infra/k8s: every overlay renders with `kubectl kustomize` once the user has written the secrets file (and not
// before), every object passes the Kubernetes and KEDA schemas of the kubernetes-models packages and their
// TypeScript interfaces (no unknown field), and the deployment holds together: references resolve, probes hit
// the apps' endpoints, the workers' grace period covers their shutdown bound, KEDA's threshold is a worker's
// slots, the NetworkPolicies let nothing but Prometheus reach the workers, and the scrape config selects the pods.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IIngress, INetworkPolicy, INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IConfigMap, IContainer, IPodTemplateSpec, ISecret, IService } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS } from '../../apps/cli/src/cli.js';
import { unpinnedReason } from './dockerfile-lint.js';
import {
  copyOfK8s,
  describeObject,
  type K8sObject,
  kustomize,
  OVERLAYS,
  type Overlay,
  REPO_ROOT,
  schemaProblems,
  typeProblems,
} from './kubernetes.js';

/** How long `swavlab worker` may take after its shutdown bound: closing the worker, then the database (stack.ts). */
const CLOSE_MARGIN_MS = 20_000;

type Labels = Record<string, string>;
interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return labels[key] !== undefined && values.includes(labels[key]);
    if (operator === 'NotIn') return labels[key] === undefined || !values.includes(labels[key]);
    if (operator === 'Exists') return labels[key] !== undefined;
    return labels[key] === undefined;
  });
  return byLabels && byExpressions;
}

/** The objects of one rendered overlay, typed by kind (they passed the schemas first). */
class Rendered {
  constructor(readonly objects: K8sObject[]) {}

  of<T>(kind: string): (T & { metadata: { name: string } })[] {
    return this.objects.filter((object) => object.kind === kind) as unknown as (T & {
      metadata: { name: string };
    })[];
  }

  named<T>(kind: string, name: string): T {
    const found = this.of<T>(kind).find((object) => object.metadata.name === name);
    if (found === undefined) throw new Error(`no ${kind}/${name} rendered`);
    return found;
  }

  /** Pod templates of the Deployments, StatefulSets and Jobs. */
  get workloads(): { name: string; kind: string; template: IPodTemplateSpec }[] {
    return [
      ...this.of<IDeployment>('Deployment'),
      ...this.of<IStatefulSet>('StatefulSet'),
      ...this.of<IJob>('Job'),
    ].map((object) => ({
      name: object.metadata.name,
      kind: (object as unknown as K8sObject).kind,
      template: object.spec?.template as IPodTemplateSpec,
    }));
  }

  /** The swavlab ConfigMap's variables (its name has kustomize's hash suffix). */
  get config(): Record<string, string> {
    const map = this.of<IConfigMap>('ConfigMap').find((object) =>
      object.metadata.name.startsWith('swavlab-config'),
    );
    return map?.data ?? {};
  }

  container(deployment: string): IContainer {
    const container = this.named<IDeployment>('Deployment', deployment).spec?.template.spec?.containers[0];
    if (container === undefined) throw new Error(`${deployment} has no container`);
    return container;
  }
}

const imagesWorkflow = parse(readFileSync(join(REPO_ROOT, 'infra/ci/images.yml'), 'utf8')) as {
  jobs: { image: { strategy: { matrix: { image: string[] } } } };
};
const scrapeConfig = parse(readFileSync(join(REPO_ROOT, 'infra/prometheus/prometheus.yml'), 'utf8')) as {
  scrape_configs: {
    job_name: string;
    kubernetes_sd_configs: { namespaces: { names: string[] } }[];
    relabel_configs: { regex?: string; action?: string }[];
  }[];
};

const rendered = new Map<Overlay, Rendered>();
let removeCopy: () => Promise<void>;
let copyWithoutSecrets: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  const copy = await copyOfK8s(true);
  removeCopy = copy.remove;
  for (const overlay of OVERLAYS) {
    rendered.set(overlay, new Rendered(await kustomize(join(copy.dir, 'overlays', overlay))));
  }
  copyWithoutSecrets = await copyOfK8s(false);
});
afterAll(async () => {
  await removeCopy?.();
  await copyWithoutSecrets?.remove();
});

const get = (overlay: Overlay): Rendered => {
  const objects = rendered.get(overlay);
  if (objects === undefined) throw new Error(`${overlay} was not rendered`);
  return objects;
};

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  it('does not render before its user has written the secrets file', async () => {
    await expect(kustomize(join(copyWithoutSecrets.dir, 'overlays', overlay))).rejects.toThrow(
      /secrets\/swavlab\.env/,
    );
  });

  it('passes the Kubernetes and KEDA schemas and has no field the APIs do not define', () => {
    const { objects } = get(overlay);
    expect(objects.length).toBeGreaterThan(10);
    expect(objects.flatMap(schemaProblems)).toEqual([]);
    expect(typeProblems(objects)).toEqual([]);
  });

  it('resolves every reference: config, secrets and their keys, volumes, services, selectors', () => {
    const k8s = get(overlay);
    const configMaps = new Map(
      k8s.of<IConfigMap>('ConfigMap').map((map) => [map.metadata.name, map.data ?? {}]),
    );
    const secrets = new Map(
      k8s.of<ISecret>('Secret').map((secret) => [secret.metadata.name, secret.data ?? {}]),
    );
    const claims = new Set(k8s.of<K8sObject>('PersistentVolumeClaim').map((claim) => claim.metadata.name));
    for (const { name, template } of k8s.workloads) {
      const spec = template.spec;
      for (const container of spec?.containers ?? []) {
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) expect(configMaps.has(source.configMapRef.name ?? ''), name).toBe(true);
          if (source.secretRef) expect(secrets.has(source.secretRef.name ?? ''), name).toBe(true);
        }
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref) expect(Object.keys(secrets.get(ref.name ?? '') ?? {}), name).toContain(ref.key);
        }
      }
      for (const volume of spec?.volumes ?? []) {
        if (volume.persistentVolumeClaim)
          expect(claims, name).toContain(volume.persistentVolumeClaim.claimName);
      }
    }
    const pods = k8s.workloads.map(({ template }) => template);
    for (const service of k8s.of<IService>('Service')) {
      const pod = pods.find((template) =>
        selects({ matchLabels: service.spec?.selector }, template.metadata?.labels ?? {}),
      );
      expect(pod, describeObject(service as unknown as K8sObject)).toBeDefined();
      const portNames = (pod?.spec?.containers ?? []).flatMap((container) =>
        (container.ports ?? []).map((p) => p.name),
      );
      for (const port of service.spec?.ports ?? []) expect(portNames).toContain(port.targetPort);
    }
    for (const budget of k8s.of<IPodDisruptionBudget>('PodDisruptionBudget')) {
      expect(
        pods.some((pod) => selects(budget.spec?.selector, pod.metadata?.labels ?? {})),
        budget.metadata.name,
      ).toBe(true);
    }
    for (const ingress of k8s.of<IIngress>('Ingress')) {
      for (const path of ingress.spec?.rules?.flatMap((rule) => rule.http?.paths ?? []) ?? []) {
        const service = k8s.named<IService>('Service', path.backend.service?.name ?? '');
        expect(service.spec?.ports?.map((port) => port.name)).toContain(path.backend.service?.port?.name);
      }
    }
    // The apps read these from the environment (README.md, Configuration).
    expect(Object.keys(k8s.config)).toEqual(expect.arrayContaining(['DATABASE_URL', 'SWAVLAB_ARTIFACTS']));
    const secret = [...secrets.values()][0] ?? {};
    expect(Object.keys(secret)).toEqual(
      expect.arrayContaining(['DATABASE_PASSWORD', 'REDIS_URL', 'SWAVLAB_API_TOKENS']),
    );
  });

  it('runs pinned images of infra/ci/images.yml, non-root, without privileges, with requests and limits', () => {
    const k8s = get(overlay);
    const pushed = imagesWorkflow.jobs.image.strategy.matrix.image;
    const swavlabTags = new Set<string>();
    for (const { name, template } of k8s.workloads) {
      expect(template.spec?.securityContext?.runAsNonRoot, name).toBe(true);
      expect(template.spec?.securityContext?.seccompProfile?.type, name).toBe('RuntimeDefault');
      for (const container of template.spec?.containers ?? []) {
        const image = container.image ?? '';
        expect(unpinnedReason(image), name).toBeUndefined();
        const own = /^ghcr\.io\/[a-z0-9-]+\/swavlab\/([a-z0-9-]+):(.+)$/.exec(image);
        if (own !== null) {
          expect(pushed, image).toContain(own[1]);
          swavlabTags.add(own[2] ?? '');
        }
        expect(container.securityContext?.allowPrivilegeEscalation, name).toBe(false);
        expect(container.securityContext?.capabilities?.drop, name).toEqual(['ALL']);
        for (const resource of ['cpu', 'memory']) {
          expect(container.resources?.requests?.[resource], `${name} requests ${resource}`).toBeDefined();
          expect(container.resources?.limits?.[resource], `${name} limits ${resource}`).toBeDefined();
        }
      }
    }
    expect(swavlabTags.size).toBe(1);
    const namespace = k8s.named<K8sObject>('Namespace', 'swavlab');
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(
      k8s.objects
        .filter((object) => object.kind !== 'Namespace')
        .every((o) => o.metadata.namespace === 'swavlab'),
    ).toBe(true);
  });

  it('probes /healthz and /readyz on the ports the API and the worker listen on', () => {
    const k8s = get(overlay);
    const listening = { 'swavlab-api': k8s.config.PORT, 'swavlab-worker': k8s.config.SWAVLAB_WORKER_PORT };
    for (const [deployment, port] of Object.entries(listening)) {
      const container = k8s.container(deployment);
      const named = container.ports?.find(
        (candidate) => candidate.name === container.readinessProbe?.httpGet?.port,
      );
      expect(String(named?.containerPort), deployment).toBe(port);
      expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(container.startupProbe?.httpGet?.path).toBe('/healthz');
      expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container.livenessProbe?.httpGet?.port).toBe(named?.name);
    }
    expect(k8s.config.SWAVLAB_WORKER_HOST).toBe('0.0.0.0');
    expect(k8s.config.HOST).toBe('0.0.0.0');
  });

  it('gives a stopped worker its shutdown bound and more to hand its runs back; the migrate Job runs `swavlab migrate`', () => {
    const k8s = get(overlay);
    const worker = k8s.named<IDeployment>('Deployment', 'swavlab-worker');
    const bound = Number(k8s.config.SWAVLAB_SHUTDOWN_TIMEOUT_MS);
    expect(bound).toBeGreaterThan(0);
    expect((worker.spec?.template.spec?.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThanOrEqual(
      bound + CLOSE_MARGIN_MS,
    );
    const job = k8s.named<IJob>('Job', 'swavlab-migrate');
    const container = job.spec?.template.spec?.containers[0];
    expect(container?.args?.slice(-2)).toEqual(['/app/apps/cli/bin/swavlab.mjs', 'migrate']);
    expect(COMMANDS.map((command) => command.name)).toContain('migrate');
    expect(container?.image).toBe(k8s.container('swavlab-api').image);
  });

  it("scales the workers from 0 on the API's slot demand, one worker per its slots", () => {
    const k8s = get(overlay);
    const scaled = k8s.named<IScaledObject>('ScaledObject', 'swavlab-worker');
    const worker = k8s.named<IDeployment>('Deployment', 'swavlab-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe(worker.metadata?.name);
    // KEDA owns the replica count: a count in the manifest would reset it on every apply.
    expect(worker.spec?.replicas).toBeUndefined();
    expect(scaled.spec.minReplicaCount).toBe(0);
    expect(scaled.spec.cooldownPeriod).toBeGreaterThan(0);
    expect(scaled.spec.fallback?.behavior).toBe('currentReplicasIfHigher');
    const [trigger] = scaled.spec.triggers;
    expect(trigger?.type).toBe('prometheus');
    const query = String(trigger?.metadata.query);
    expect(query).toMatch(/^max\(swavlab_slots_demanded\{/);
    const job = /job="([^"]+)"/.exec(query)?.[1];
    const scrape = scrapeConfig.scrape_configs.find((candidate) => candidate.job_name === job);
    expect(scrape, `scrape job ${job}`).toBeDefined();
    expect(query).toContain(`namespace="${worker.metadata?.namespace}"`);
    expect(trigger?.metadata.ignoreNullValues).toBe('false');

    const gpus = Number(k8s.container('swavlab-worker').resources?.limits?.['nvidia.com/gpu'] ?? 0);
    // Slots per worker: SWAVLAB_SLOTS, else one per GPU visible.
    const slots = k8s.config.SWAVLAB_SLOTS === undefined ? gpus : Number(k8s.config.SWAVLAB_SLOTS);
    expect(slots).toBeGreaterThan(0);
    expect(Number(trigger?.metadata.threshold)).toBe(slots);
  });

  it('lets only Prometheus reach the workers, and the workers reach only DNS, Redis, PostgreSQL and storage', () => {
    const k8s = get(overlay);
    const policies = k8s.of<INetworkPolicy>('NetworkPolicy');
    const denyAll = policies.find(
      (policy) =>
        Object.keys(policy.spec?.podSelector ?? {}).length === 0 &&
        policy.spec?.ingress === undefined &&
        policy.spec?.egress === undefined,
    );
    expect(denyAll?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);

    const prometheus = (peer: INetworkPolicyPeer): boolean =>
      peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring' &&
      peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'prometheus';
    const workerLabels =
      k8s.named<IDeployment>('Deployment', 'swavlab-worker').spec?.template.metadata?.labels ?? {};
    const metricsPort = k8s
      .container('swavlab-worker')
      .ports?.find((port) => port.name === 'metrics')?.containerPort;
    const storagePorts = overlay === 'gpu' ? [443] : [];
    const applying = policies.filter((policy) => selects(policy.spec?.podSelector, workerLabels));
    expect(applying.length).toBeGreaterThan(1);
    for (const policy of applying) {
      for (const rule of policy.spec?.ingress ?? []) {
        expect(rule.from?.length, policy.metadata.name).toBeGreaterThan(0);
        expect(rule.from?.every(prometheus), policy.metadata.name).toBe(true);
        expect(rule.ports?.map((port) => port.port)).toEqual([metricsPort]);
      }
      for (const rule of policy.spec?.egress ?? []) {
        const ports = rule.ports?.map((port) => port.port) ?? [];
        expect(ports.length, `${policy.metadata.name}: an egress rule without ports`).toBeGreaterThan(0);
        expect([53, 5432, 6379, ...storagePorts], policy.metadata.name).toEqual(
          expect.arrayContaining(ports),
        );
      }
    }
    const stores = k8s.of<IStatefulSet>('StatefulSet').map((set) => set.metadata.name);
    if (overlay === 'cpu-dev') {
      expect(stores.sort()).toEqual(['postgres', 'redis']);
      // The dev stores admit swavlab's own pods only.
      for (const store of ['postgres', 'redis']) {
        const labels = k8s.named<IStatefulSet>('StatefulSet', store).spec?.template.metadata?.labels ?? {};
        const admitted = policies
          .filter((policy) => selects(policy.spec?.podSelector, labels))
          .flatMap((policy) => policy.spec?.ingress ?? [])
          .flatMap((rule) => rule.from ?? []);
        expect(admitted.length, store).toBeGreaterThan(0);
        for (const peer of admitted) {
          expect(peer.podSelector?.matchExpressions?.[0]?.key).toBe('app.kubernetes.io/component');
        }
      }
    } else {
      // Production stores are operators' or managed services, not these manifests.
      expect(stores).toEqual([]);
      expect(k8s.container('swavlab-worker').image).toMatch(/\/worker-cuda:/);
      expect(k8s.config.SWAVLAB_ARTIFACTS).toMatch(/^s3:\/\//);
    }
  });

  it("is what infra/prometheus/prometheus.yml's jobs select: the pods' labels and metrics ports", () => {
    const k8s = get(overlay);
    for (const [job, deployment] of [
      ['swavlab-api', 'swavlab-api'],
      ['swavlab-worker', 'swavlab-worker'],
    ] as const) {
      const scrape = scrapeConfig.scrape_configs.find((candidate) => candidate.job_name === job);
      const labels = k8s.named<IDeployment>('Deployment', deployment).spec?.template.metadata?.labels ?? {};
      const port = k8s.container(deployment).readinessProbe?.httpGet?.port;
      const keep = scrape?.relabel_configs.find((relabel) => relabel.action === 'keep');
      expect(keep?.regex, job).toBe(
        `${labels['app.kubernetes.io/name']};${labels['app.kubernetes.io/component']};${port}`,
      );
      expect(scrape?.kubernetes_sd_configs[0]?.namespaces.names).toEqual(['swavlab']);
    }
  });
});
