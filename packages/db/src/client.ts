// Re-exports of the generated Prisma client (git-ignored, produced by `npm run generate`).
import { Prisma, PrismaClient } from './generated/prisma/client.js';

export { Prisma, PrismaClient };

/** A Prisma client or an interactive-transaction client: what repository helpers run their queries on. */
export type Queryable = PrismaClient | Prisma.TransactionClient;
