import { execFile } from 'node:child_process';
import { PythonNotFound } from './errors.js';

/** An interpreter that runs and imports torch. */
export interface PythonInterpreter {
  bin: string;
  torchVersion: string;
}

/** Interpreters tried in order when PYTHON_BIN is unset (Debian's python3 on PATH may lack torch). */
export const PYTHON_CANDIDATES: readonly string[] = ['python3', '/usr/bin/python3'];

// A cold torch import takes seconds on a busy machine; a minute means something is wrong.
const PROBE_TIMEOUT_MS = 60_000;

type ProbeOutcome = { ok: true; torchVersion: string } | { ok: false; reason: string };

function probe(bin: string, env: NodeJS.ProcessEnv): Promise<ProbeOutcome> {
  const code = 'import sys, torch; sys.stdout.write(torch.__version__)';
  return new Promise((resolve) => {
    execFile(bin, ['-c', code], { env, timeout: PROBE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ ok: true, torchVersion: stdout.trim() });
        return;
      }
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT') resolve({ ok: false, reason: 'not found' });
      else if (errno === 'EACCES') resolve({ ok: false, reason: 'not executable' });
      else if (error.killed) resolve({ ok: false, reason: `no answer within ${PROBE_TIMEOUT_MS} ms` });
      else {
        const lastLine = stderr.trim().split('\n').at(-1) || `exit code ${error.code}`;
        resolve({ ok: false, reason: lastLine });
      }
    });
  });
}

/**
 * Choose the Python interpreter for jobs: `PYTHON_BIN` when set (it must run and import torch), else
 * the first of `candidates` (default PYTHON_CANDIDATES) that imports torch. Throws PythonNotFound
 * saying what was tried and why each one was rejected.
 */
export async function findPython({
  env = process.env,
  candidates = PYTHON_CANDIDATES,
}: {
  env?: NodeJS.ProcessEnv;
  candidates?: readonly string[];
} = {}): Promise<PythonInterpreter> {
  const configured = env.PYTHON_BIN;
  if (configured !== undefined && configured !== '') {
    const outcome = await probe(configured, env);
    if (outcome.ok) return { bin: configured, torchVersion: outcome.torchVersion };
    throw new PythonNotFound(
      `PYTHON_BIN=${configured} cannot be used: ${outcome.reason} (it must run and import torch)`,
    );
  }
  const rejected: string[] = [];
  for (const bin of candidates) {
    const outcome = await probe(bin, env);
    if (outcome.ok) return { bin, torchVersion: outcome.torchVersion };
    rejected.push(`${bin}: ${outcome.reason}`);
  }
  throw new PythonNotFound(
    `no Python interpreter that imports torch was found; set PYTHON_BIN. Tried ${rejected.join('; ')}`,
  );
}
