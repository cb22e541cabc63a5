import { BridgeProtocolError, parseJobResult } from '@swavlab/bridge';
import { describe, expect, it } from 'vitest';

describe('parseJobResult', () => {
  it('keeps every field of the result, including extra fields of error', () => {
    const json = JSON.stringify({
      status: 'failed',
      steps: 0,
      error: { kind: 'spec', message: 'bad', traceback: 'tb', errors: [{ path: 'seed', message: 'x' }] },
    });
    expect(parseJobResult(json)).toEqual({
      status: 'failed',
      steps: 0,
      error: { kind: 'spec', message: 'bad', traceback: 'tb', errors: [{ path: 'seed', message: 'x' }] },
    });
  });

  it('accepts a missing error as null', () => {
    expect(parseJobResult('{"status":"succeeded"}')).toEqual({ status: 'succeeded', error: null });
  });

  it.each([
    ['nope', /^result: not valid JSON/],
    ['[1]', /^result: expected a JSON object$/],
    [
      '{"status":"done"}',
      /^result\.status: expected one of succeeded, canceled, diverged, failed, got "done"$/,
    ],
    ['{"status":"failed","error":"boom"}', /^result\.error: expected an object or null$/],
    ['{"status":"failed","error":{"kind":1}}', /^result\.error\.kind: expected a string$/],
  ])('rejects %s, naming the field', (json, message) => {
    expect(() => parseJobResult(json)).toThrow(BridgeProtocolError);
    expect(() => parseJobResult(json)).toThrow(message);
  });
});
