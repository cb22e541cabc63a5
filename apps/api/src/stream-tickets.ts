// Tickets for event streams: a browser's EventSource cannot send an Authorization header, so a client that holds a
// token first asks for a ticket (POST /v1/runs/{id}/events/ticket, with its token) and opens the stream with
// `?ticket=`. A ticket reads the events of that one run only, for a few minutes; only its hash is stored (Redis).
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Principal } from './auth.js';
import { guardRedis } from './redis-guard.js';

/** How long a ticket opens its stream (EventSource reconnects within it reuse it). */
export const TICKET_TTL_SECONDS = 300;

interface StoredTicket {
  runId: string;
  principal: Principal;
}

export class StreamTickets {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  #key(ticket: string): string {
    return `${this.prefix}:stream-ticket:${createHash('sha256').update(ticket).digest('hex')}`;
  }

  /** A new ticket for `principal` to follow `runId`. */
  async issue(principal: Principal, runId: string): Promise<string> {
    const ticket = randomBytes(24).toString('base64url');
    const stored: StoredTicket = { runId, principal };
    await guardRedis(this.redis, 'stream ticket', () =>
      this.redis.set(this.#key(ticket), JSON.stringify(stored), 'EX', TICKET_TTL_SECONDS),
    );
    return ticket;
  }

  /** The principal a ticket stands for, when it is live and was issued for `runId`; else null. */
  async redeem(ticket: string, runId: string): Promise<Principal | null> {
    if (ticket.length > 200) return null;
    const raw = await guardRedis(this.redis, 'stream ticket', () => this.redis.get(this.#key(ticket)));
    if (raw === null) return null;
    const stored = JSON.parse(raw) as StoredTicket;
    return stored.runId === runId ? stored.principal : null;
  }
}
