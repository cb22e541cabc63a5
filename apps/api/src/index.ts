// @swavlab/api: the REST server of swavlab.
export { type AppDeps, type BuildAppOptions, buildApp, createApiLogger } from './app.js';
export {
  type ApiConfig,
  ConfigError,
  type EnvToken,
  isLoopbackHost,
  loadConfig,
  parseEnvTokens,
} from './config.js';
export { checkDataPath, type DataPathCheck } from './data-roots.js';
export { PROBLEM_CONTENT_TYPE, type Problem } from './problem.js';
export { SCOPES, type Scope } from './scopes.js';
export { type RunningApiServer, type StartApiServerOptions, startApiServer } from './server.js';
