// The broker user docker-compose.yml creates for the hubs (docs/security.md, "Broker users"): a
// network whose hubs connect as that user works end to end, and the user can neither read nor
// declare a queue outside lgsp.*. The user is made with rabbitmqctl for this test and removed.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_URL, eventually, startTestNetwork, type TestNetwork } from '../helpers/network.js';

const hasRabbitmqctl = (() => {
  try {
    execFileSync('rabbitmqctl', ['status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // not installed, or no broker node it can reach: said in the skip message below
  }
})();
const rabbitmqctl = (...args: string[]) => execFileSync('rabbitmqctl', args, { stdio: 'ignore' });
const user = `lgsp-test-hubs-${randomUUID().slice(0, 8)}`;
const password = randomUUID();
const userUrl = (() => { const u = new URL(AMQP_URL); u.username = user; u.password = password; return u.toString(); })();
const stranger = `not-lgsp-${randomUUID()}`;
let n: TestNetwork;

describe.skipIf(!hasRabbitmqctl)('broker users (skipped: rabbitmqctl cannot reach the broker here)', () => {
  beforeAll(async () => {
    rabbitmqctl('add_user', user, password);
    // The permissions of docker-compose.yml's lgsp-hubs user.
    rabbitmqctl('set_permissions', '-p', '/', user, '^lgsp\\.', '^(lgsp\\..*|amq\\.default)$', '^lgsp\\.');
    const admin = await amqp.connect(AMQP_URL);
    await (await admin.createChannel()).assertQueue(stranger, { durable: false, autoDelete: false });
    await admin.close();
    n = await startTestNetwork({ amqpUrl: userUrl });
  }, 60_000);
  afterAll(async () => {
    await n?.close();
    const admin = await amqp.connect(AMQP_URL);
    await (await admin.createChannel()).deleteQueue(stranger);
    await admin.close();
    rabbitmqctl('delete_user', user);
  });

  it('runs a network whose hubs connect as the restricted user', async () => {
    const commune = n.agent('000.07.05.');
    const province = n.agent('000.00.12.');
    const r = await commune.submit(n.document(commune, [province], 'Qua người dùng riêng của trục'));
    expect(r.status).toBe(202);
    await eventually(async () => ((await province.request('GET', '/api/v1/edocs/received')).json.items
      .some((i: { docId: string }) => i.docId === r.json.docId) ? true : undefined), 'delivery through hubs on the restricted user');
  });

  it('refuses that user reading or declaring a queue outside lgsp.*', async () => {
    const conn = await amqp.connect(userUrl);
    const refused = async (act: (ch: amqp.Channel) => Promise<unknown>) => {
      const ch = await conn.createChannel();
      ch.on('error', () => { /* the refusal closes the channel; the rejected call below says why */ });
      return act(ch).then(() => 'allowed', (err: Error) => err.message);
    };
    expect(await refused((ch) => ch.get(stranger))).toContain('ACCESS_REFUSED');
    expect(await refused((ch) => ch.assertQueue(`not-lgsp-${randomUUID()}`))).toContain('ACCESS_REFUSED');
    expect(await refused((ch) => ch.deleteQueue(stranger))).toContain('ACCESS_REFUSED');
    await conn.close();
  });
});
