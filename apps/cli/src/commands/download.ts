// `swavlab download RUN`: fetch a run's exported backbone or one of its checkpoints, with a progress bar, verified
// against the sha256 the server gives as ETag, resumable after an interruption (FILE.partial + its ETag).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  type Command,
  parseCommand,
  printJson,
  printLine,
  SERVER_OPTIONS,
  SERVER_USAGE,
} from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { formatDuration } from '../format.js';
import { ApiClient, serverSettings } from '../http-client.js';
import { progressBar } from '../progress-view.js';
import { StatusLine } from '../status-line.js';

const REDRAW_MS = 200;

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The sha256 of what is already downloaded, so that a resumed download is verified whole. */
async function hashOf(path: string, bytes: number): Promise<ReturnType<typeof createHash>> {
  const hash = createHash('sha256');
  if (bytes > 0) for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

export const downloadCommand: Command = {
  name: 'download',
  summary: "download a run's backbone or a checkpoint",
  usage: `Usage: swavlab download RUN [options]

Downloads the run's exported backbone (written when a run succeeds; torchvision-loadable for resnet18 and
resnet50 with the standard stem), or with --checkpoint one of its checkpoints. The file is written to
FILE.partial and renamed to FILE once its sha256 matches the server's; an interrupted download resumes
where it stopped when the same command runs again.

Options:
  --checkpoint STEP  a checkpoint instead of the backbone: its step (see \`swavlab show RUN\`) or latest
  -o, --output FILE  where to write (default: RUN-backbone.pt or RUN-checkpoint-STEP.pt here)
  --json             print {path, bytes, sha256} when done
${SERVER_USAGE}

Exit codes: 0 downloaded, 1 not found or corrupt, 2 usage error, 3 server unreachable, 130 interrupted.`,

  async run(args) {
    const parsed = parseCommand(
      this,
      args,
      {
        ...SERVER_OPTIONS,
        checkpoint: { type: 'string' },
        output: { type: 'string', short: 'o' },
        json: { type: 'boolean' },
      },
      { min: 1, max: 1, names: 'RUN' },
    );
    if (!parsed) return EXIT.ok;
    const id = parsed.positionals[0] as string;
    const { checkpoint, output, json } = parsed.values;
    if (checkpoint !== undefined && checkpoint !== 'latest' && !/^\d+$/.test(checkpoint)) {
      throw new UsageError(
        `--checkpoint: expected a step number or latest, got ${JSON.stringify(checkpoint)}`,
      );
    }
    const client = new ApiClient(serverSettings(parsed.values));
    const run = encodeURIComponent(id);
    const path =
      checkpoint === undefined
        ? `/v1/runs/${run}/backbone`
        : `/v1/runs/${run}/checkpoints/${checkpoint}/file`;
    const what =
      checkpoint === undefined ? `the backbone of run ${id}` : `checkpoint ${checkpoint} of run ${id}`;

    const target =
      output ?? (checkpoint === undefined ? `${id}-backbone.pt` : `${id}-checkpoint-${checkpoint}.pt`);
    const partial = `${target}.partial`;
    const aborter = new AbortController();
    const interrupted = () => aborter.abort();
    process.once('SIGINT', interrupted);
    try {
      // Resume an earlier partial file of the same content (If-Range: the server sends it whole otherwise).
      const previous = await readFile(`${partial}.etag`, 'utf8').catch(() => '');
      let offset = previous === '' ? 0 : await sizeOf(partial);
      const request = () =>
        client.fetch('GET', path, {
          headers: offset > 0 ? { range: `bytes=${offset}-`, 'if-range': previous } : {},
          signal: aborter.signal,
        });
      let response = await request();
      if (response.status === 416 && offset > 0) {
        offset = 0; // the partial file does not fit the server's: start over
        response = await request();
      }
      if (!response.ok) throw await client.errorOf(response, `download ${what}`);
      const etag = response.headers.get('etag') ?? '';
      const expected = /^"([0-9a-f]{64})"$/.exec(etag)?.[1];
      if (expected === undefined) throw new CliError(`${what}: the server sent no sha256 ETag`, EXIT.failure);
      if (response.status !== 206) offset = 0;
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      const total = offset + length;
      await writeFile(`${partial}.etag`, etag);
      const hash = await hashOf(partial, offset);

      const status = new StatusLine(process.stderr);
      const started = Date.now();
      let received = 0;
      let drawn = 0;
      const draw = (force = false) => {
        if (!force && Date.now() - drawn < REDRAW_MS) return;
        drawn = Date.now();
        const done = offset + received;
        const rate = received / Math.max(0.001, (Date.now() - started) / 1000);
        const eta = Number.isFinite(total) && rate > 0 ? (total - done) / rate : null;
        const sizes = Number.isFinite(total)
          ? `${formatBytes(done)} / ${formatBytes(total)}`
          : formatBytes(done);
        const bar = Number.isFinite(total) && total > 0 ? `${progressBar(done / total)} ` : '';
        status.update(`${bar}${sizes}  ${formatBytes(rate)}/s  eta ${formatDuration(eta)}`);
      };
      if (response.body === null) throw new CliError(`${what}: the server sent no body`, EXIT.failure);
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        draw();
      });
      try {
        await pipeline(body, createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w' }));
      } finally {
        draw(true);
        status.finish();
      }
      const actual = hash.digest('hex');
      if (actual !== expected) {
        await rm(partial, { force: true });
        await rm(`${partial}.etag`, { force: true });
        throw new CliError(
          `${what}: the downloaded file has sha256 ${actual}, the server's is ${expected}`,
          EXIT.failure,
          ['the partial file was removed; run the command again'],
        );
      }
      await rename(partial, target);
      await rm(`${partial}.etag`, { force: true });
      const bytes = await sizeOf(target);
      if (json) printJson({ path: target, bytes, sha256: actual });
      else printLine(`${target}: ${formatBytes(bytes)}, sha256 ${actual} verified`);
      return EXIT.ok;
    } catch (error) {
      if (aborter.signal.aborted) {
        process.stderr.write('download interrupted; run the same command again to resume\n');
        return EXIT.interrupted;
      }
      throw error;
    } finally {
      process.off('SIGINT', interrupted);
    }
  },
};
