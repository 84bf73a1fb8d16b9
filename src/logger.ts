// The root logger of a process (`lgsp start`, `lgsp demo`, the tests' hubs): pino, with every
// place a credential could reach a log line redacted, should a request's headers, a body or an
// error object ever be logged whole. Components take children of it (STYLE.md rule 6).
import pino, { type DestinationStream, type LevelWithSilentOrString, type Logger } from 'pino';

const SECRET_FIELDS = ['authorization', 'cookie', 'set-cookie', 'apiKey', 'token', 'adminToken', 'keyPem', 'privateKey', 'password'];

/** Each field at the top, one and two levels down (pino's wildcards match one level each). */
export const REDACT_PATHS = SECRET_FIELDS.map((f) => `["${f}"]`).flatMap((f) => [f, `*${f}`, `*.*${f}`]);

export function createRootLogger(level: LevelWithSilentOrString, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
