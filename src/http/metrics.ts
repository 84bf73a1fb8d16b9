// GET /metrics in the Prometheus text format.
import type { FastifyInstance } from 'fastify';
import { secondsToExpiry, type WatchedCert } from '../admin/expiry.js';

export interface MetricsDeps { hubId: string; watched: () => Promise<WatchedCert[]>; clock: () => Date }

const label = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', ' ');

export async function metrics(app: FastifyInstance, deps: MetricsDeps): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    const now = deps.clock();
    const lines = [
      '# HELP lgsp_certificate_expiry_seconds Seconds until the certificate expires (negative once expired).',
      '# TYPE lgsp_certificate_expiry_seconds gauge',
      ...(await deps.watched()).map((c) => `lgsp_certificate_expiry_seconds{hub="${label(deps.hubId)}",kind="${c.kind}",` +
        `agency="${label(c.agency ?? '')}",fingerprint="${c.fingerprint}",subject="${label(c.subject)}"} ${secondsToExpiry(c.notAfter, now)}`),
    ];
    return reply.type('text/plain; version=0.0.4').send(lines.join('\n') + '\n');
  });
}
