// Who a request is, as GET /v1/whoami answers: clients (the dashboard) show only the actions the token's scopes allow.
import { z } from 'zod';

export const WhoAmIView = z.object({
  principal: z
    .string()
    .meta({ description: '`env:<n>`, `token:<id>`, or `anonymous` on an open local server' }),
  scopes: z.array(z.enum(['read', 'submit', 'admin'])).meta({ description: "the token's scopes" }),
});

export type WhoAmIView = z.output<typeof WhoAmIView>;
