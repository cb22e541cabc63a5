// The Server-Sent Events reader behind `swavlab watch`: events must come out the same however the byte stream
// is split into chunks, including a CRLF split between two chunks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readServerEvents, type ServerEvent } from '../../apps/cli/src/sse.js';

async function collect(chunks: readonly string[]): Promise<ServerEvent[]> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const events: ServerEvent[] = [];
  for await (const event of readServerEvents(body())) events.push(event);
  return events;
}

const STREAM = [
  ': heartbeat',
  'id: c1',
  'event: run',
  'data: {"id":"r1","status":"running"}',
  '',
  'event: metrics',
  'data: {"points":',
  'data: [1, 2]}',
  '',
  'data: plain',
  '',
  'event: end',
  'id: c2',
  'data: {"status":"succeeded"}',
  '',
  '',
];

const EXPECTED: ServerEvent[] = [
  { event: 'run', data: '{"id":"r1","status":"running"}', id: 'c1' },
  { event: 'metrics', data: '{"points":\n[1, 2]}', id: 'c1' },
  { event: 'message', data: 'plain', id: 'c1' },
  { event: 'end', data: '{"status":"succeeded"}', id: 'c2' },
];

describe('readServerEvents', () => {
  it('parses events, multi-line data, comments and ids', async () => {
    expect(await collect([STREAM.join('\n')])).toEqual(EXPECTED);
  });

  it('gives the same events for any chunking and either line ending', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        async (cuts, eol) => {
          const text = STREAM.join(eol);
          const points = [...new Set(cuts.map((cut) => cut % text.length))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((start, i) => text.slice(start, [...points, text.length][i]));
          expect(await collect(chunks)).toEqual(EXPECTED);
        },
      ),
    );
  });

  it('drops an event the stream did not finish', async () => {
    expect(await collect(['event: run\ndata: {"partial":'])).toEqual([]);
  });
});
