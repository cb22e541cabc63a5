import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPython, PythonNotFound } from '@swavlab/bridge';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON } from './helpers.js';

// A stand-in interpreter that fails the torch import the way a Python without torch does.
const fakeDir = mkdtempSync(join(tmpdir(), 'swavlab-fake-python-'));
const noTorch = join(fakeDir, 'python3');
writeFileSync(noTorch, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1\n');
chmodSync(noTorch, 0o755);
afterAll(() => rmSync(fakeDir, { recursive: true, force: true }));

describe('findPython', () => {
  it('uses PYTHON_BIN when it imports torch', async () => {
    const found = await findPython({ env: { ...process.env, PYTHON_BIN: PYTHON } });
    expect(found.bin).toBe(PYTHON);
    expect(found.torchVersion).toMatch(/^\d+\.\d+/);
  });

  it('names PYTHON_BIN and the reason when it is unusable, without falling back', async () => {
    await expect(findPython({ env: { PYTHON_BIN: '/nonexistent/python3' } })).rejects.toThrow(
      'PYTHON_BIN=/nonexistent/python3 cannot be used: not found',
    );
    const error = await findPython({ env: { PYTHON_BIN: noTorch } }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(PythonNotFound);
    expect((error as Error).message).toBe(
      `PYTHON_BIN=${noTorch} cannot be used: ModuleNotFoundError: No module named 'torch' (it must run and import torch)`,
    );
  });

  it('without PYTHON_BIN takes the first candidate that imports torch', async () => {
    // PATH holds only the torch-less python3, as on this machine; /usr/bin/python3 is next.
    const found = await findPython({ env: { PATH: fakeDir } });
    expect(found.bin).toBe('/usr/bin/python3');
  });

  it('lists every candidate it tried and why, when none works', async () => {
    const error = await findPython({
      env: { PATH: fakeDir },
      candidates: ['python3', '/nonexistent/python3'],
    }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(PythonNotFound);
    expect((error as Error).message).toBe(
      "no Python interpreter that imports torch was found; set PYTHON_BIN. Tried python3: ModuleNotFoundError: No module named 'torch'; /nonexistent/python3: not found",
    );
  });
});
