// The one place where the CLI turns results into output and exit statuses (CONTRACT.md):
// 0 success, 1 the input was rejected, 2 usage or environment error.
import { ERRORS, type HubError } from '../errors.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export type ExitStatus = 0 | 1 | 2;

export function reportError(error: HubError, json: boolean, io: Io): ExitStatus {
  if (json) {
    const body: Record<string, unknown> = { ok: false, code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    io.out(JSON.stringify(body));
  } else {
    io.err(`${error.code}: ${error.message}`);
    for (const d of error.details ?? []) {
      io.err(`  ${d.line !== undefined ? `line ${d.line} ` : ''}${d.path ?? ''}: ${d.reason}`);
    }
  }
  return ERRORS[error.code].exit;
}

/** Success: one JSON object with --json, otherwise the human lines. */
export function reportSuccess(body: Record<string, unknown>, lines: string[], json: boolean, io: Io): ExitStatus {
  if (json) io.out(JSON.stringify({ ok: true, ...body }));
  else for (const line of lines) io.out(line);
  return 0;
}
