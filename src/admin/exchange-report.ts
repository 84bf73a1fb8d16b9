// The exchange statistics as the admin API, the console, the metrics and the overdue alert see
// them. Each hub counts its own agencies in its own ledger (ledger/exchange-stats.ts); a report
// covers this hub and every hub below it, read from their ledgers (the top hub's covers the
// network), named from the registry, grouped by agency, hub, day or month, with the documents
// waiting unacknowledged past alerts.unacknowledgedAfter. Every agency is served by one hub and
// each hub's ledger holds only its own agencies' sending, mailboxes and refusals, so summing the
// hubs counts nothing twice (docs/statistics.md).
import { hubAncestry, type Registry } from '../agency/registry.js';
import type { Ledger, UnackedItem } from '../ledger/store.js';
import { dayOf } from '../stats/calendar.js';
import { addCell, buildReport, emptyCell, regroup, type Grouping, type StatsCell, type StatsReport, type StatsTotals } from '../stats/report.js';

/** At most this many overdue documents are listed per hub (the gauge and the counts see no more). */
export const OVERDUE_MAX = 10_000;

export interface OverdueItem {
  agency: string;
  agencyName?: string;
  docId: string;
  sender: string;
  subject?: string;
  receivedAt: string;
  waitingSeconds: number;
}

/** Where the hubs of a network stand in its tree, and what each counted, in a report's totals. */
export interface NetworkTotals {
  /** The hubs whose ledgers the report read: this one and those below it. */
  hubs: string[];
  /** Hubs below whose ledgers could not be read (docs/statistics.md): their agencies are missing. */
  unreadHubs: string[];
  /** Per level of the hub tree (0: the top hub). */
  levels: ({ level: number; hubs: string[] } & Pick<StatsTotals, 'sent' | 'received' | 'statusSent' | 'statusReceived' | 'refused' | 'acked' | 'ackFailed'>)[];
}

export type NetworkReport = StatsReport & { totals: StatsTotals & NetworkTotals };

export interface ExchangeReports {
  report(q: { from: string; to: string; groupBy: Grouping }): Promise<NetworkReport>;
  /** This hub's agencies' documents delivered and not acknowledged in time, oldest first (the gauge, the webhook). */
  overdue(): Promise<OverdueItem[]>;
  /** The same over this hub and the hubs below it (the API and the console). */
  overdueBelow(): Promise<OverdueItem[]>;
}

export function exchangeReports(deps: {
  ledger: Ledger; registry: Registry; hubId: string; clock: () => Date; overdueAfterMs: number;
  /** The ledger of a hub below this one, or null while it cannot be read. */
  ledgerOf: (hubId: string) => Promise<Ledger | null>;
}): ExchangeReports {
  const { registry } = deps;
  const below = [...registry.hubs.keys()].filter((h) => h !== deps.hubId && hubAncestry(registry, h).includes(deps.hubId)).sort();
  const levelOf = (hubId: string) => hubAncestry(registry, hubId).length - 1;
  /** This hub's ledger and those of the hubs below that can be read. */
  const sources = async () => {
    const found = await Promise.all(below.map(async (hub) => ({ hub, ledger: await deps.ledgerOf(hub) })));
    return {
      read: [{ hub: deps.hubId, ledger: deps.ledger }, ...found.filter((s): s is { hub: string; ledger: Ledger } => s.ledger !== null)],
      unread: found.filter((s) => s.ledger === null).map((s) => s.hub),
    };
  };
  const overdueIn = async (ledgers: readonly Ledger[]): Promise<OverdueItem[]> => {
    const now = deps.clock();
    const before = new Date(now.getTime() - deps.overdueAfterMs).toISOString();
    const items = (await Promise.all(ledgers.map((l) => l.unacknowledged(before, OVERDUE_MAX)))).flat().sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    return items.map((u: UnackedItem) => {
      const name = registry.agencies.get(u.agency)?.name;
      return {
        agency: u.agency, ...(name === undefined ? {} : { agencyName: name }), docId: u.docId, sender: u.sender,
        ...(u.subject === undefined ? {} : { subject: u.subject }), receivedAt: u.receivedAt,
        waitingSeconds: Math.floor((now.getTime() - Date.parse(u.receivedAt)) / 1000),
      };
    });
  };
  return {
    overdue: () => overdueIn([deps.ledger]),
    overdueBelow: async () => overdueIn((await sources()).read.map((s) => s.ledger)),
    async report({ from, to, groupBy }) {
      const { read, unread } = await sources();
      const counted = await Promise.all(read.map(async (s) => ({ hub: s.hub, cells: await s.ledger.exchangeStats({ from, to, by: groupBy === 'hub' ? 'agency' : groupBy }) })));
      // Days and months are summed across hubs; agencies are each one hub's; a hub is its ledger's
      // agencies (a row for every hub read, if only of zeros).
      const cells = regroup(counted.flatMap((c) => (groupBy === 'hub' ? regroup([emptyCell(c.hub), ...c.cells], () => c.hub) : c.cells)), (key) => key);
      const late = await overdueIn(read.map((s) => s.ledger));
      const hubOf = new Map(read.map((s) => [s.hub, s.hub]));
      for (const a of registry.agencies.values()) hubOf.set(a.code, a.hubId);
      // Each overdue document is counted under the key of its row: its agency, that agency's hub,
      // or the day or month it was delivered.
      const lateKey = {
        agency: (o: OverdueItem) => o.agency, hub: (o: OverdueItem) => hubOf.get(o.agency) ?? deps.hubId,
        day: (o: OverdueItem) => dayOf(o.receivedAt), month: (o: OverdueItem) => dayOf(o.receivedAt).slice(0, 7),
      }[groupBy];
      const lateBy = new Map<string, number>();
      for (const o of late) lateBy.set(lateKey(o), (lateBy.get(lateKey(o)) ?? 0) + 1);
      const refusals = new Map<string, StatsTotals['refusedByCode'][number]>();
      for (const r of (await Promise.all(read.map((s) => s.ledger.refusalsByCode(from, to)))).flat()) {
        const key = `${r.hop} ${r.code}`;
        refusals.set(key, { ...r, count: (refusals.get(key)?.count ?? 0) + r.count });
      }
      const report = buildReport({
        from, to, groupBy, cells,
        nameOf: (key) => (groupBy === 'agency' || groupBy === 'hub' ? registry.agencies.get(key)?.name : undefined),
        overdueOf: (key) => lateBy.get(key) ?? 0,
        refusedByCode: [...refusals.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
      });
      return { ...report, totals: { ...report.totals, hubs: read.map((s) => s.hub), unreadHubs: unread, levels: levelsOf(counted, levelOf) } };
    },
  };
}

/** Each level's hubs and what their agencies did. */
function levelsOf(counted: readonly { hub: string; cells: StatsCell[] }[], levelOf: (hub: string) => number): NetworkTotals['levels'] {
  const levels = new Map<number, { hubs: string[]; cell: StatsCell }>();
  for (const c of counted) {
    const level = levels.get(levelOf(c.hub)) ?? levels.set(levelOf(c.hub), { hubs: [], cell: emptyCell('') }).get(levelOf(c.hub))!;
    level.hubs.push(c.hub);
    for (const cell of c.cells) addCell(level.cell, cell);
  }
  return [...levels].sort(([a], [b]) => a - b).map(([level, { hubs, cell }]) => ({
    level, hubs, sent: cell.sent, received: cell.received, statusSent: cell.statusSent, statusReceived: cell.statusReceived,
    refused: cell.refusedFirstHop + cell.refusedLaterHop, acked: cell.acked, ackFailed: cell.ackFailed,
  }));
}
