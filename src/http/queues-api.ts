// GET /api/admin/queues (any admin role): every queue of the hub with its ready messages and
// consumers, read from the broker without touching any message.
import type { FastifyInstance } from 'fastify';
import type { AdminRole } from '../config.js';
import { authenticateAdmin, type AdminTokens, type AgencyKeys } from './auth.js';
import { replyError } from './errors.js';
import type { QueueStat } from './metrics.js';

const READ: readonly AdminRole[] = ['observer', 'operator', 'security'];

export async function queuesApi(app: FastifyInstance, deps: { admins: AdminTokens; agencyKeys: AgencyKeys; queues: () => Promise<QueueStat[]> }): Promise<void> {
  app.get('/api/admin/queues', async (request, reply) => {
    const who = authenticateAdmin(request, deps.admins, deps.agencyKeys, READ);
    if (!who.ok) return replyError(reply, who.error);
    return { items: await deps.queues() };
  });
}
