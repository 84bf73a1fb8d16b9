// The calendar the statistics are kept in: the Asia/Ho_Chi_Minh day (UTC+7 all year, no daylight
// saving), and how the console shows a moment to Vietnamese readers (dd/mm/yyyy HH:mm). The
// ledger stores moments as ISO UTC strings, so a day is the half-open range of its two midnights.
export const ZONE = 'Asia/Ho_Chi_Minh';
const OFFSET_MS = 7 * 3_600_000;
const DAY_MS = 86_400_000;
/** A calendar day, YYYY-MM-DD. */
export const DAY_PATTERN = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** The Ho Chi Minh City day a moment falls on. */
export function dayOf(at: Date | string): string {
  return new Date(new Date(at).getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** The moment a day starts, as the ledger stores moments (ISO UTC). */
export function dayStart(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - OFFSET_MS).toISOString();
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Whether a YYYY-MM-DD string names a real day (not 2026-02-30). */
export function isRealDay(day: string): boolean {
  return DAY_PATTERN.test(day) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

/** Every day from `from` to `to`, both included. */
export function daysFrom(from: string, to: string): string[] {
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
}

/** A moment as Vietnamese readers write it, in Ho Chi Minh City time: dd/mm/yyyy HH:mm. */
export function formatMoment(at: Date | string): string {
  const t = new Date(at);
  if (Number.isNaN(t.getTime())) return String(at);
  const local = new Date(t.getTime() + OFFSET_MS).toISOString();
  return `${local.slice(8, 10)}/${local.slice(5, 7)}/${local.slice(0, 4)} ${local.slice(11, 16)}`;
}

/** A day (YYYY-MM-DD) as dd/mm/yyyy. */
export function formatDay(day: string): string {
  return `${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;
}

/** The range a report covers when none or half is given: 30 days, ending today or starting at `from`. */
export function reportRange(q: { from?: string | undefined; to?: string | undefined }, now: Date): { from: string; to: string } {
  const span = 30;
  const to = q.to ?? (q.from === undefined ? dayOf(now) : addDays(q.from, span - 1));
  return { from: q.from ?? addDays(to, -(span - 1)), to };
}
