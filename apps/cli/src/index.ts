// @swavlab/cli: the `swavlab` command. The library surface is what tests and other tools reuse.
export { COMMANDS, mainUsage, runCli } from './cli.js';
export { CliError, EXIT, type ExitCode, UsageError } from './errors.js';
export { resolveHome } from './home.js';
export { ApiClient, DEFAULT_URL, type ServerSettings, serverSettings } from './http-client.js';
export { findJsonSyntaxError, type JsonSyntaxError } from './json-syntax.js';
export { freePort, type LocalRedis, startRedisServer } from './redis-server.js';
export { type Stack, type StackOptions, startStack } from './stack.js';
