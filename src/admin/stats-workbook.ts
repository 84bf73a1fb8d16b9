// The statistics as an Excel workbook (exceljs), for the admin API and the console's export:
// one sheet per grouping (the one asked for first), Vietnamese headers, a totals row.
import ExcelJS from 'exceljs';
import { GROUPINGS, REPORT_COLUMNS, type Grouping, type StatsReport } from '../stats/report.js';
import type { ExchangeReports } from './exchange-report.js';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const SHEET_NAMES: Record<Grouping, string> = { agency: 'Theo cơ quan', hub: 'Theo trục', day: 'Theo ngày', month: 'Theo tháng' };

/** The workbook of `first` and of the same range under every other grouping. */
export async function workbookOf(reports: ExchangeReports, first: StatsReport): Promise<Buffer> {
  const others = await Promise.all(GROUPINGS.filter((g) => g !== first.groupBy).map((g) => reports.report({ from: first.from, to: first.to, groupBy: g })));
  const book = new ExcelJS.Workbook();
  book.creator = 'LGSP hub';
  for (const r of [first, ...others]) {
    const sheet = book.addWorksheet(SHEET_NAMES[r.groupBy]);
    sheet.columns = REPORT_COLUMNS.map((c) => ({ header: c.header, key: c.field, width: c.field === 'name' ? 40 : 16 }));
    sheet.getRow(1).font = { bold: true };
    for (const row of r.rows) sheet.addRow(row);
    sheet.addRow({ ...r.totals, key: 'Tổng cộng' }).font = { bold: true };
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}
