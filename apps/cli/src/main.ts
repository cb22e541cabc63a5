// Entry of the `swavlab` bin (bin/swavlab.mjs imports this module).
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
