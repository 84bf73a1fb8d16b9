// GET /metrics for Prometheus: the hub's registry (metrics/hub-metrics.ts), behind a token.
import type { FastifyInstance } from 'fastify';
import type { HubMetrics } from '../metrics/hub-metrics.js';
import { fail } from '../errors.js';
import { bearerToken, hashApiKey, type AdminTokens } from './auth.js';
import { replyError } from './errors.js';
import { errorsOf } from './route-schema.js';
import { z } from 'zod';

/**
 * GET /metrics names certificate subjects, agencies and their traffic, so it is not open: the
 * scraper sends `Authorization: Bearer <token>`, the token whose hash is http.metricsTokenHash
 * or any admin's token.
 */
export async function metricsRoute(app: FastifyInstance, metrics: HubMetrics, access: { tokenHash: string | undefined; admins: AdminTokens }): Promise<void> {
  app.get('/metrics', {
    schema: {
      tags: ['operations'], summary: 'Prometheus metrics (metrics or admin token)',
      response: { 200: { content: { 'text/plain': { schema: z.string().describe('Prometheus text format') } } }, ...errorsOf('UNAUTHENTICATED', 'UNAVAILABLE') },
    },
  }, async (request, reply) => {
    const token = bearerToken(request);
    if (token === null) return replyError(reply, fail('UNAUTHENTICATED', 'missing "Authorization: Bearer <metrics or admin token>"').error);
    const hash = hashApiKey(token);
    if (hash !== access.tokenHash && !access.admins.has(hash)) return replyError(reply, fail('UNAUTHENTICATED', 'unknown metrics or admin token').error);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
