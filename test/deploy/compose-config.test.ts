// docker/compose.yaml without a container runtime: `docker-compose config` validates it (Debian's docker-compose
// works offline; scripts/ensure-system-packages.sh installs it), and its structure is checked against issue 15:
// pinned images, health-gated dependencies, named volumes, secrets as files only, a GPU worker and a CPU profile,
// and shutdown and port settings that fit the images.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../apps/api/src/config.js';
import { workerConfigFromEnv } from '../../apps/worker/src/config.js';
import { type ComposeFile, type ComposeService, loadCompose } from './compose-file.js';
import { type ContainerSpec, containerOf } from './container-process.js';
import { parseDockerfile } from './dockerfile.js';
import { unpinnedReason } from './dockerfile-lint.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKER_DIR = join(REPO_ROOT, 'docker');
const COMPOSE_FILE = join(DOCKER_DIR, 'compose.yaml');
const run = promisify(execFile);

let compose: ComposeFile;
beforeAll(async () => {
  compose = await loadCompose(COMPOSE_FILE);
});

/** The services built from this repository's Dockerfiles, with what their containers run. */
function swavlabServices(): { service: ComposeService; container: ContainerSpec }[] {
  return Object.values(compose.services)
    .filter((service) => service.build !== undefined)
    .map((service) => {
      const build = service.build as { context: string; dockerfile: string };
      const path = join(DOCKER_DIR, build.context, build.dockerfile);
      return { service, container: containerOf(service, parseDockerfile(readFileSync(path, 'utf8'))) };
    });
}

/** `90s`, `1m30s` → milliseconds. */
function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.map((part) => part[0]).join('') !== text) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return parts.reduce((sum, part) => sum + Number(part[1]) * unit[part[2] as keyof typeof unit], 0);
}

describe('docker-compose config', () => {
  for (const profile of [[], ['--profile', 'cpu']]) {
    it(`accepts docker/compose.yaml ${profile.join(' ') || '(default profile)'}`, async () => {
      const result = await run('docker-compose', ['-f', COMPOSE_FILE, ...profile, 'config', '--quiet']).catch(
        (error: NodeJS.ErrnoException & { stderr?: string }) => {
          if (error.code === 'ENOENT') {
            throw new Error('docker-compose is not installed: run scripts/ensure-system-packages.sh');
          }
          throw new Error(`docker-compose config failed: ${error.stderr ?? error.message}`);
        },
      );
      expect(result.stderr).toBe('');
    });
  }

  it('fails on a broken file (the check can fail)', async () => {
    const broken =
      'services:\n  api:\n    image: x:1.0\n    depends_on:\n      db:\n        condition: nonsense\n';
    const stderr = await new Promise<string>((resolve) => {
      const child = execFile('docker-compose', ['-f', '-', 'config', '--quiet'], (error, _stdout, text) =>
        resolve(error === null ? '' : text),
      );
      child.stdin?.end(broken);
    });
    expect(stderr).toContain('services.api.depends_on.db.condition');
  });
});

describe('docker/compose.yaml', () => {
  it('has PostgreSQL, Redis, a migration step, the API, a GPU worker and a CPU worker under the cpu profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'migrate',
      'postgres',
      'redis',
      'worker',
      'worker-cpu',
    ]);
    expect(compose.services.worker?.reservesGpus).toBe(true);
    expect(compose.services.worker?.profiles).toEqual([]);
    expect(compose.services['worker-cpu']?.reservesGpus).toBe(false);
    expect(compose.services['worker-cpu']?.profiles).toEqual(['cpu']);
  });

  it('pulls only pinned images and builds the rest from docker/*.Dockerfile', () => {
    for (const service of Object.values(compose.services)) {
      if (service.build === undefined) {
        expect(service.image, service.name).toBeDefined();
        expect(unpinnedReason(service.image ?? ''), service.name).toBeUndefined();
      } else {
        expect(
          existsSync(join(DOCKER_DIR, service.build.context, service.build.dockerfile)),
          service.name,
        ).toBe(true);
      }
    }
  });

  it('starts a service once what it depends on is healthy (with a health check) or, for the migration, done', () => {
    const containers = new Map(swavlabServices().map(({ service, container }) => [service.name, container]));
    for (const service of Object.values(compose.services)) {
      for (const [dependency, condition] of Object.entries(service.dependsOn)) {
        if (condition === 'service_completed_successfully') {
          // A one-shot step: restarting it would keep its dependents waiting.
          expect(compose.services[dependency]?.restart, dependency).toBe('no');
          continue;
        }
        expect(condition, `${service.name} → ${dependency}`).toBe('service_healthy');
        const checked =
          compose.services[dependency]?.healthcheck ?? containers.get(dependency)?.healthcheck ?? undefined;
        expect(checked, `${dependency} has a health check`).toBeDefined();
      }
    }
    for (const name of ['api', 'worker', 'worker-cpu']) {
      expect(compose.services[name]?.dependsOn, name).toEqual({
        migrate: 'service_completed_successfully',
        postgres: 'service_healthy',
        redis: 'service_healthy',
      });
    }
    expect(containers.get('migrate')?.argv.slice(-2)).toEqual(['/app/apps/cli/bin/swavlab.mjs', 'migrate']);
  });

  it('keeps the database, the queue and the artifacts in named volumes; the API and the workers share artifacts', () => {
    const mountOf = (service: string, target: string) =>
      compose.services[service]?.volumes.find((volume) => volume.target === target);
    expect(mountOf('postgres', '/var/lib/postgresql/data')?.named).toBe(true);
    expect(mountOf('redis', '/data')?.named).toBe(true);
    expect(compose.services.redis?.command?.join(' ')).toContain('--appendonly yes');
    // The migration step touches the database only.
    const serving = swavlabServices().filter(({ service }) => service.name !== 'migrate');
    const artifactVolumes = serving.map(({ service, container }) => {
      const mount = mountOf(service.name, container.env.SWAVLAB_ARTIFACTS ?? '');
      expect(mount?.named, `${service.name} mounts a named volume at its SWAVLAB_ARTIFACTS`).toBe(true);
      return mount?.source;
    });
    expect(new Set(artifactVolumes).size).toBe(1);
  });

  it('holds no secret: secrets are git-ignored files mounted where the *_FILE variables point', async () => {
    for (const [name, file] of Object.entries(compose.secrets)) {
      const path = join(DOCKER_DIR, file);
      expect(path.startsWith(join(DOCKER_DIR, 'secrets/')), name).toBe(true);
      // git check-ignore exits 0 when the path is ignored.
      await expect(run('git', ['check-ignore', '-q', path], { cwd: REPO_ROOT })).resolves.toBeDefined();
    }
    for (const service of Object.values(compose.services)) {
      const mounted = new Set(service.secrets.map((secret) => secret.target));
      for (const [variable, value] of Object.entries(service.environment)) {
        if (variable.endsWith('_FILE')) {
          expect(mounted.has(value), `${service.name}: ${variable} points at a mounted secret`).toBe(true);
        } else {
          expect(variable, `${service.name}: a secret's value in the file`).not.toMatch(
            /PASSWORD|TOKEN|SECRET/,
          );
        }
      }
      for (const secret of service.secrets) expect(Object.keys(compose.secrets)).toContain(secret.source);
    }
    // PostgreSQL and every service that connects to it share one password secret.
    const passwordSecret = compose.services.postgres?.environment.POSTGRES_PASSWORD_FILE;
    expect(passwordSecret).toBe('/run/secrets/db_password');
    for (const service of Object.values(compose.services)) {
      const url = service.environment.DATABASE_URL;
      if (url === undefined) continue;
      expect(new URL(url).password, service.name).toBe('');
      expect(service.environment.DATABASE_PASSWORD_FILE, service.name).toBe(passwordSecret);
    }
  });

  it('fits the images: the API publishes the port it listens on; workers get longer than their shutdown bound', () => {
    for (const { service, container } of swavlabServices()) {
      if (service.ports.length > 0) {
        const api = loadConfig({ ...container.env, SWAVLAB_API_TOKENS: 'sixteen-chars-token' });
        expect(service.ports.map((port) => port.container)).toEqual([api.port]);
        expect(container.exposed).toContain(api.port);
        // Published on the host's loopback only: the API is reached through a proxy or the CLI on the host.
        expect(service.ports[0]?.host).toMatch(/^127\.0\.0\.1:\d+$/);
      }
      if (container.argv.at(-1) === 'worker') {
        const worker = workerConfigFromEnv(container.env, []);
        expect(durationMs(service.stopGracePeriod ?? '10s'), service.name).toBeGreaterThan(
          worker.shutdownTimeoutMs,
        );
        expect(container.exposed).toContain(Number(container.env.SWAVLAB_WORKER_PORT));
      }
    }
  });
});
