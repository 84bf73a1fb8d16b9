// The exchange statistics as the admin API, the console, the metrics and the overdue alert see
// them: the ledger's counts for this hub's agencies, named from the registry, grouped by agency,
// hub, day or month, with the documents waiting unacknowledged past alerts.unacknowledgedAfter.
import type { Registry } from '../agency/registry.js';
import type { Ledger, UnackedItem } from '../ledger/store.js';
import { dayOf } from '../stats/calendar.js';
import { buildReport, regroup, type Grouping, type StatsReport } from '../stats/report.js';

/** At most this many overdue documents are listed (the gauge and the counts too see no more). */
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

export interface ExchangeReports {
  report(q: { from: string; to: string; groupBy: Grouping }): Promise<StatsReport>;
  /** Documents delivered and not acknowledged for longer than the threshold, oldest first. */
  overdue(): Promise<OverdueItem[]>;
}

export function exchangeReports(deps: { ledger: Ledger; registry: Registry; hubId: string; clock: () => Date; overdueAfterMs: number }): ExchangeReports {
  const { ledger, registry } = deps;
  const hubOf = (code: string) => registry.agencies.get(code)?.hubId ?? (registry.hubs.has(code) ? code : deps.hubId);
  const overdue = async (): Promise<OverdueItem[]> => {
    const now = deps.clock();
    const items = await ledger.unacknowledged(new Date(now.getTime() - deps.overdueAfterMs).toISOString(), OVERDUE_MAX);
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
    overdue,
    async report({ from, to, groupBy }) {
      const cells = await ledger.exchangeStats({ from, to, by: groupBy === 'hub' ? 'agency' : groupBy });
      const late = await overdue();
      // Each overdue document is counted under the key of its row: its agency, that agency's hub,
      // or the day or month it was delivered.
      const lateKey = { agency: (o: OverdueItem) => o.agency, hub: (o: OverdueItem) => hubOf(o.agency), day: (o: OverdueItem) => dayOf(o.receivedAt), month: (o: OverdueItem) => dayOf(o.receivedAt).slice(0, 7) }[groupBy];
      const lateBy = new Map<string, number>();
      for (const o of late) lateBy.set(lateKey(o), (lateBy.get(lateKey(o)) ?? 0) + 1);
      return buildReport({
        from, to, groupBy,
        cells: groupBy === 'hub' ? regroup(cells, hubOf) : cells,
        nameOf: (key) => (groupBy === 'agency' || groupBy === 'hub' ? registry.agencies.get(key)?.name : undefined),
        overdueOf: (key) => lateBy.get(key) ?? 0,
        refusedByCode: await ledger.refusalsByCode(from, to),
      });
    },
  };
}
