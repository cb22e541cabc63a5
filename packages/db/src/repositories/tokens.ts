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

  /** The active (not revoked) token with this plaintext, marking it used now; null when there is none. */
  async findApiToken(plain: string): Promise<ApiToken | null> {
    if (typeof plain !== 'string' || plain.length === 0) return null;
    const [row] = await this.prisma.apiToken.updateManyAndReturn({
      where: { tokenHash: hashToken(plain), revokedAt: null },
      data: { lastUsedAt: new Date() },
    });
    return row === undefined ? null : toApiToken(row);
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
}
