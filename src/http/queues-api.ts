// GET /api/admin/queues (any admin role): the hub's queues with ready messages and consumers, read
// without touching any message; ?scope=all lists every hub's queues on the broker (with the
// management API configured).
import type { FastifyInstance } from 'fastify';
import type { AdminRole } from '../config.js';
import { authenticateAdmin, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import { fail } from '../errors.js';
import type { QueueStat } from './metrics.js';

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];

export async function queuesApi(app: FastifyInstance, deps: {
  admins: AdminTokens; agencyKeys: AgencyKeys; queues: () => Promise<QueueStat[]>; allQueues: () => Promise<QueueStat[] | null>;
}): Promise<void> {
  app.get('/api/admin/queues', async (request, reply) => {
    const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, READ);
    if (!who.ok) return replyError(reply, who.error);
    if ((request.query as Record<string, string | undefined>).scope === 'all') {
      const all = await deps.allQueues();
      if (all === null) return replyError(reply, fail('UNAVAILABLE', 'listing every hub\'s queues needs managementUrl (RabbitMQ\'s management API)').error);
      return { scope: 'all', items: all };
    }
    return { scope: 'hub', items: await deps.queues() };
  });
}
