// Where swavlab keeps its embedded database, local Redis files, artifacts and logs.
import { resolve } from 'node:path';

/** SWAVLAB_HOME as an absolute path (default ./.swavlab). */
export function resolveHome(env: NodeJS.ProcessEnv): string {
  return resolve(env.SWAVLAB_HOME || './.swavlab');
}
