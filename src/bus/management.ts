// RabbitMQ's management HTTP API, reached with the credentials its URL carries
// (http://user:password@host:15672): fetch refuses a URL that carries them, so they go in an
// Authorization header and never into a message.

/** The vhost an AMQP URL names, encoded for a management API path (`%2F` for `/`). */
export function vhostOf(amqpUrl: string): string {
  return encodeURIComponent(decodeURIComponent(new URL(amqpUrl).pathname.slice(1)) || '/');
}

/** A call on the management API; `body` is sent as JSON. Rejects as fetch does when the API does not answer. */
export function managementCall(managementUrl: string, path: string, init: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<Response> {
  const base = new URL(managementUrl);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  base.username = '';
  base.password = '';
  const headers: Record<string, string> = { authorization: auth };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(new URL(path, base), {
    method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
  });
}
