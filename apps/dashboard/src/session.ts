// What the stored token (or an open local server) allows, asked once per page load from GET /v1/whoami: action
// buttons (cancel, retry, re-run failed, add seeds) are shown only with the submit scope.
import { getJson } from './api';
import type { WhoAmI } from './types';

let scopes: Promise<readonly string[]> | null = null;

/** The caller's scopes; none when the server refuses to say (no or a wrong token). */
export function callerScopes(): Promise<readonly string[]> {
  scopes ??= getJson<WhoAmI>('/v1/whoami').then(
    (answer) => answer.scopes,
    () => [],
  );
  return scopes;
}

/** Whether the caller may submit, cancel and retry (the submit scope; admin implies it). */
export async function canSubmit(): Promise<boolean> {
  const granted = await callerScopes();
  return granted.includes('submit') || granted.includes('admin');
}
