// ULIDs for rows inserted with raw SQL (Prisma's @default(ulid()) only applies to its own inserts): 48 bits of
// milliseconds then 80 random bits, in Crockford's base 32, so that ids sort roughly by creation time.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function ulid(now = Date.now()): string {
  let time = '';
  for (let rest = now, i = 0; i < 10; i += 1, rest = Math.floor(rest / 32)) time = ALPHABET[rest % 32] + time;
  const random = randomBytes(16);
  let tail = '';
  for (let i = 0; i < 16; i += 1) tail += ALPHABET[(random[i] as number) % 32];
  return time + tail;
}
