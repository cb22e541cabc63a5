// Reads the suite file given to `swavlab regress` and validates it locally (every cell as a full experiment
// spec), so that a typo is reported with the file and the field before anything is queued.
import { expandSuite, type RegressionSuite } from '@swavlab/spec';
import { CliError, EXIT } from '../errors.js';
import { issueLines, readJsonFile } from '../spec-file.js';

/** The suite in `file` (defaults applied) and how many candidate runs it makes (cells × seeds). */
export async function readSuiteFile(file: string): Promise<{ suite: RegressionSuite; runs: number }> {
  const expansion = expandSuite(await readJsonFile(file));
  if (!expansion.ok) {
    throw new CliError(`${file}: invalid regression suite`, EXIT.usage, issueLines(expansion.errors));
  }
  return { suite: expansion.suite, runs: expansion.cells.length };
}
