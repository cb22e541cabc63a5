/**
 * Checks an artifact key: a relative path of safe segments (letters, digits, `.`, `_`, `-`) separated by `/`,
 * none of them `.` or `..`, so that no key can name anything outside the store's root or prefix.
 */
export function checkKey(key: string): string {
  const segments = key.split('/');
  const bad = segments.find((segment) => !/^[A-Za-z0-9._-]+$/.test(segment) || /^\.\.?$/.test(segment));
  if (key.length === 0 || key.length > 1024 || bad !== undefined) {
    throw new RangeError(
      `artifact key ${JSON.stringify(key)}: expected a relative path of letters, digits, '.', '_' and '-' segments`,
    );
  }
  return key;
}
