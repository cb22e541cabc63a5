// The exit code of `swavlab regress` for a verdict: what a CI step branches on.
import type { RegressionVerdict } from '@swavlab/spec';
import { intOption } from '../command.js';
import { EXIT, type ExitCode } from '../errors.js';

/** What --inconclusive-exit accepts: treat an inconclusive verdict as a pass (0), a regression (1) or an error (2). */
export const INCONCLUSIVE_EXITS = [EXIT.ok, EXIT.failure, EXIT.usage] as const;
export type InconclusiveExit = (typeof INCONCLUSIVE_EXITS)[number];

/** --inconclusive-exit: 0, 1 or 2; 2 when absent. */
export function inconclusiveExitOption(raw: string | undefined): InconclusiveExit {
  const value = intOption('inconclusive-exit', raw, 0, 2);
  return INCONCLUSIVE_EXITS.find((code) => code === value) ?? EXIT.usage;
}

/** 0 pass, 1 regression, 2 error; inconclusive → `inconclusiveExit` (default 2: not enough evidence is not a pass). */
export function verdictExitCode(
  verdict: RegressionVerdict,
  inconclusiveExit: InconclusiveExit = EXIT.usage,
): ExitCode {
  switch (verdict) {
    case 'pass':
      return EXIT.ok;
    case 'regression':
      return EXIT.failure;
    case 'error':
      return EXIT.usage;
    case 'inconclusive':
      return inconclusiveExit;
  }
}
