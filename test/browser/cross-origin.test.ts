// A page of another origin, open in the user's browser, tries what a hostile site would against a local server
// that needs no token: cancel a run with a no-cors fetch and with a form post, and read through DNS rebinding
// (another host name for 127.0.0.1). Nothing gets through; the dashboard's own pages carry the security headers.
import { createServer, request, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureDashboardBuilt,
  launchChromium,
  postJson,
  type Stack,
  startStack,
  tinySpec,
} from './helpers.js';

let stack: Stack;
let browser: Browser;
let evil: Server;
let evilUrl: string;

/** The hostile page: posts to the API as soon as it loads. */
function hostilePage(api: string, runId: string): string {
  const cancel = `${api}/v1/runs/${runId}/cancel`;
  return `<!doctype html><html><body>
<form id="f" method="POST" action="${cancel}" target="sink"><input name="x" value="1"></form>
<iframe name="sink"></iframe>
<script>
  fetch(${JSON.stringify(cancel)}, { method: 'POST', mode: 'no-cors' }).catch(() => {});
  fetch(${JSON.stringify(cancel)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '' }).catch(() => {});
  document.getElementById('f').submit();
</script></body></html>`;
}

beforeAll(async () => {
  await ensureDashboardBuilt();
  stack = await startStack();
  browser = await launchChromium();
  evil = createServer();
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  const address = evil.address();
  evilUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => evil?.close(resolve));
  await stack?.close();
});

describe('a hostile page in the browser', () => {
  it('cannot cancel a run of the open local server, by fetch or by form', async () => {
    const { id } = await postJson<{ id: string }>(`${stack.url}/v1/runs`, tinySpec({ seed: 77 }));
    evil.removeAllListeners('request');
    evil.on('request', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end(hostilePage(stack.url, id));
    });
    const refused: number[] = [];
    const page = await browser.newPage();
    page.on('response', (response) => {
      if (response.url().endsWith('/cancel')) refused.push(response.status());
    });
    await page.goto(evilUrl);
    await page.waitForTimeout(1_500);
    await page.close();
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((status) => status === 403)).toBe(true);
    expect((await stack.db.runs.getRun(id))?.status).toBe('queued');
  });

  it('gets nothing through another host name for 127.0.0.1 (DNS rebinding)', async () => {
    // fetch cannot set Host; a plain request can, as a rebound browser effectively does.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const target = new URL(`${stack.url}/v1/runs`);
      request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          headers: { host: 'attacker.example:80' },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(status).toBe(421);
    expect(JSON.parse(body)).toMatchObject({ code: 'host_not_allowed' });
  });

  it('gets the dashboard with a CSP without inline scripts and no framing', async () => {
    const response = await fetch(`${stack.url}/`);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });
});
