// Operator commands talk to a running hub's admin API, so that they take effect live:
// --url and --token, defaulting to LGSP_URL and LGSP_ADMIN_TOKEN.
import { z } from 'zod';
import { ERRORS, fail, ok, type ErrorCode, type Result } from '../errors.js';

export const Connection = {
  url: z.string().url('a hub URL such as http://127.0.0.1:8701').optional(),
  token: z.string().min(1).optional(),
};
export const CONNECTION_OPTIONS = { url: { type: 'string' }, token: { type: 'string' } } as const;

/**
 * A hub's answer read with the schema of what the command prints from it: an answer of another
 * shape (a hub of another version, or --url naming something else that answers 200) is a coded
 * error, exit 2, rather than a crash with a stack trace. Unknown fields are kept (--json prints them).
 */
export function answerOf<S extends z.ZodType<Record<string, unknown>>>(schema: S, answer: Result<Record<string, unknown>>, call: string): Result<z.output<S>> {
  if (!answer.ok) return answer;
  const read = schema.safeParse(answer.value);
  if (read.success) return ok(read.data);
  const issues = read.error.issues.map((i) => `${i.path.join('.') || 'the answer'}: ${i.message}`).join('; ');
  return fail('UNAVAILABLE', `${call}: the hub's answer is not what this lgsp expects (${issues}); is --url a hub of this version?`);
}

export interface AdminClient {
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<Result<Record<string, unknown>>>;
}

export function adminClient(flags: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv): Result<AdminClient> {
  const url = flags.url ?? env.LGSP_URL;
  const token = flags.token ?? env.LGSP_ADMIN_TOKEN;
  if (url === undefined) return fail('USAGE', 'no hub: pass --url or set LGSP_URL');
  if (token === undefined) return fail('USAGE', 'no admin token: pass --token or set LGSP_ADMIN_TOKEN');
  return ok({
    async call(method, path, body, contentType) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      let payload: string | Buffer | undefined;
      if (Buffer.isBuffer(body)) { payload = body; headers['content-type'] = contentType ?? 'application/octet-stream'; }
      else if (body !== undefined) { payload = JSON.stringify(body); headers['content-type'] = 'application/json'; }
      let res: Response;
      try {
        res = await fetch(new URL(path, url), { method, headers, body: payload });
      } catch (err) {
        return fail('UNAVAILABLE', `cannot reach the hub at ${url}: ${(err as Error).message}`);
      }
      const json = await res.json().catch(() => ({})) as Record<string, unknown>;
      if (res.ok) return ok(json);
      const error = (json.error ?? {}) as { code?: string; message?: string; details?: [] };
      const code = (error.code !== undefined && error.code in ERRORS ? error.code : 'UNAVAILABLE') as ErrorCode;
      return fail(code, error.message ?? `the hub answered ${res.status}`, undefined, error.details);
    },
  });
}
