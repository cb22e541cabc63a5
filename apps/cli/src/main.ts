// Entry of the `swavlab` bin (bin/swavlab.mjs imports this module).
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
// A client a library left open (Redis reconnecting to a server that is gone) must not keep the command alive.
setTimeout(() => process.exit(), 2_000).unref();
