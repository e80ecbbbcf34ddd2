/**
 * The bench's reference for lookups (issue 17): a bare Fastify + `pg` handler that runs the same
 * lookup statement the service runs (`FIND_CUSTOMERS_SQL`, prepared by name, over a pool of the
 * service's bench size) and shapes the same answer with the same response schema — and nothing
 * else: no validation beyond the JSON parse, no normalisation, no hooks, no logs, no metrics, no
 * block list, no overload checks. What the service's lookups reach, divided by what this reaches
 * in the same run, is what the service's own layers cost.
 *
 * Run as its own process, like the service: `node --import tsx bench/bareHandler.ts` with
 * DATABASE_URL, PORT and HOST (test/support/serviceProcess.ts starts it).
 */
import Fastify from 'fastify';
import pg from 'pg';
import { FIND_CUSTOMERS_SQL } from '../src/db/identifyStore.js';
import type { LinkedContact } from '../src/identity/contact.js';
import { toCustomer } from '../src/identity/reconcile.js';
import { CustomerResponse } from '../src/http/schemas.js';

/** The pool size the bench gives the service (bench/targets.ts). */
const POOL_SIZE = 20;

interface LookupBody {
  email?: string | null;
  phoneNumber?: string | null;
}

async function main(): Promise<void> {
  // The service's session setting for prepared statements (src/db/database.ts), so both run one plan.
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: POOL_SIZE,
    options: '-c plan_cache_mode=force_generic_plan',
  });
  const app = Fastify({ logger: false });
  app.get('/ready', async () => ({ status: 'ready' }));
  app.post<{ Body: LookupBody }>('/identify', { schema: { response: { 200: CustomerResponse } } }, async (request, reply) => {
    const { email = null, phoneNumber = null } = request.body ?? {};
    const { rows } = await pool.query<LinkedContact>({ name: 'lookup', text: FIND_CUSTOMERS_SQL, values: [email, phoneNumber] });
    // The bench's lookups always find their customer; anything else is not this handler's job.
    if (rows.length === 0) return reply.code(404).send();
    const customer = toCustomer(
      rows.map(({ id, email, phoneNumber, linkedId, linkPrecedence }) => ({ id, email, phoneNumber, linkedId, linkPrecedence })),
    );
    return { customer: { id: customer.primaryContactId, ...customer } };
  });
  const close = () => void app.close().then(() => pool.end());
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  await app.listen({ port: Number(process.env.PORT ?? 3999), host: process.env.HOST ?? '127.0.0.1' });
}

await main();
