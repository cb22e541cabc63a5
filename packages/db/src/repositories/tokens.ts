// API tokens: the plaintext is shown once at creation; only its sha256 is stored and looked up.
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import { type ApiToken, toApiToken } from '../rows.js';
import { requireString, requireStringArray } from '../validate.js';

export interface CreatedApiToken {
  /** The secret to hand to the client; it cannot be recovered later. */
  token: string;
  apiToken: ApiToken;
}

/** How precise a token's lastUsedAt is: it is written at most this often. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Prefix that makes leaked swavlab tokens recognisable (e.g. by secret scanners). */
const TOKEN_PREFIX = 'swl_';

function hashToken(plain: string): string {
  return createHash('sha256').update(plain, 'utf8').digest('hex');
}

export class TokensRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async createApiToken(name: string, scopes: string[]): Promise<CreatedApiToken> {
    const row = {
      name: requireString(name, 'name', 200),
      scopes: requireStringArray(scopes, 'scopes'),
    };
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const created = await this.prisma.apiToken.create({ data: { ...row, tokenHash: hashToken(token) } });
    return { token, apiToken: toApiToken(created) };
  }

  /**
   * The active (not revoked) token with this plaintext; null when there is none. Its `lastUsedAt` is brought up
   * to date when it is older than LAST_USED_RESOLUTION_MS, so that authenticating is a read, not a write, for
   * almost every request.
   */
  async findApiToken(plain: string): Promise<ApiToken | null> {
    if (typeof plain !== 'string' || plain.length === 0) return null;
    const row = await this.prisma.apiToken.findUnique({ where: { tokenHash: hashToken(plain) } });
    if (row === null || row.revokedAt !== null) return null;
    const now = new Date();
    if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.prisma.apiToken.updateMany({ where: { id: row.id }, data: { lastUsedAt: now } });
      return toApiToken({ ...row, lastUsedAt: now });
    }
    return toApiToken(row);
  }

  /** Revokes a token; false when no active token has this id. */
  async revokeApiToken(id: string): Promise<boolean> {
    const { count } = await this.prisma.apiToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return count === 1;
  }

  async listApiTokens(): Promise<ApiToken[]> {
    const rows = await this.prisma.apiToken.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(toApiToken);
  }

  /** Whether a token was ever created (`active`: one that is not revoked). */
  async anyTokens({ active }: { active: boolean }): Promise<boolean> {
    const row = await this.prisma.apiToken.findFirst({
      where: active ? { revokedAt: null } : {},
      select: { id: true },
    });
    return row !== null;
  }
}
