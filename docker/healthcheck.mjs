// The images' HEALTHCHECK: GET /readyz of the server in this container; exit 0 when it answers 200.
// `api` reads the API's PORT, `worker` the worker's SWAVLAB_WORKER_PORT (the variables the servers listen on).
const PORTS = { api: ['PORT', '8080'], worker: ['SWAVLAB_WORKER_PORT', '9464'] };

const role = process.argv[2];
if (!Object.hasOwn(PORTS, role)) {
  console.error(`healthcheck: expected "api" or "worker", got ${JSON.stringify(role)}`);
  process.exit(2);
}
const [variable, fallback] = PORTS[role];
const port = process.env[variable] || fallback;
try {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(4_000) });
  if (!response.ok)
    console.error(`healthcheck: /readyz answered ${response.status}: ${await response.text()}`);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`healthcheck: 127.0.0.1:${port} (${variable}) does not answer: ${error.message}`);
  process.exit(1);
}
