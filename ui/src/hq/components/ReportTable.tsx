// A data table described by its columns, so that what it shows and its CSV file come from one
// place: the export button offers every row (not only those shown), and a long table shows
// WINDOW rows at first with "show more".

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { downloadCsv, type CsvCell } from "../../shared/csv";
import { Table, type Column } from "../../shared/components/Table";
import { formatLitres, formatWon, groupDigits, litresForFile } from "../../shared/format";
import type { Lang } from "../../shared/i18n";
import { useHq } from "../context";

/** Rows drawn at first and added by each "show more". */
export const WINDOW = 200;

export interface ReportColumn<Row> {
  header: string;
  /** A right-aligned number column. */
  num?: boolean;
  cell: (row: Row) => ComponentChildren;
  /** The cell in the CSV file; a column without it (e.g. buttons) is left out of the file. */
  csv?: (row: Row) => CsvCell;
}

/** A column of millilitres, shown as litres and written to the file as litres. */
export function litresColumn<Row>(header: string, value: (row: Row) => number): ReportColumn<Row> {
  return { header, num: true, cell: (row) => formatLitres(value(row)), csv: (row) => litresForFile(value(row)) };
}

/** A column of won, shown in the page's language and written to the file as a whole number. */
export function wonColumn<Row>(header: string, value: (row: Row) => number, lang: Lang): ReportColumn<Row> {
  return { header, num: true, cell: (row) => formatWon(value(row), lang), csv: value };
}

/** A column of counts. */
export function countColumn<Row>(header: string, value: (row: Row) => number): ReportColumn<Row> {
  return { header, num: true, cell: (row) => groupDigits(value(row)), csv: value };
}

/** Attributes of one row: its test id, its class and `data-*` facts for tests. */
export type RowAttributes = Record<string, string | number | boolean | undefined>;

export function ReportTable<Row>(props: {
  columns: readonly ReportColumn<Row>[];
  rows: readonly Row[];
  rowKey: (row: Row) => string;
  row?: (row: Row) => RowAttributes;
  /** The table's test id; its export button is `<testId>-export` unless `exportTestId` says. */
  testId: string;
  exportTestId?: string;
  /** The CSV file's name without `.csv`; without it, no export button. */
  exportName?: string;
  /** A last row in bold (a total), in the file too. */
  total?: Row;
  /** Starts the window again when it changes (a new filter), not when the rows are refreshed. */
  windowKey?: string;
  /** False for a list the caller pages itself: every row is drawn. */
  windowed?: boolean;
}) {
  const { t } = useHq();
  const { columns, rows, testId } = props;
  const windowKey = props.windowKey ?? "";
  const [windowed, setWindowed] = useState({ key: windowKey, count: WINDOW });
  const count = props.windowed === false ? Infinity : windowed.key === windowKey ? windowed.count : WINDOW;
  const shown = rows.length > count ? rows.slice(0, count) : rows;

  const exportCsv = () => {
    const inFile = columns.filter((column) => column.csv !== undefined);
    const line = (row: Row) => inFile.map((column) => column.csv?.(row) ?? null);
    const body = props.total === undefined ? rows.map(line) : [...rows.map(line), line(props.total)];
    downloadCsv(`${props.exportName ?? testId}.csv`, [inFile.map((column) => column.header), ...body]);
  };

  const headings: Column[] = columns.map((column) => (column.num === true ? { num: column.header } : column.header));
  const cells = (row: Row) =>
    columns.map((column, index) => (
      <td key={index} class={column.num === true ? "num" : undefined}>
        {column.cell(row)}
      </td>
    ));

  return (
    <div class="report-table">
      <div class="report-tools">
        <span class="muted small" data-testid={`${testId}-count`} data-count={rows.length}>
          {rows.length > shown.length
            ? t("table.shown_of", { shown: shown.length, total: rows.length })
            : t("table.rows", { count: rows.length })}
        </span>
        {props.exportName === undefined ? null : (
          <button
            type="button"
            class="small-button"
            data-testid={props.exportTestId ?? `${testId}-export`}
            disabled={rows.length === 0}
            onClick={exportCsv}
          >
            {t("table.export")}
          </button>
        )}
      </div>
      {rows.length === 0 ? (
        <p class="muted">{t("common.empty")}</p>
      ) : (
        <div class="table-scroll">
          <Table columns={headings} testId={testId}>
            {shown.map((row) => (
              <tr key={props.rowKey(row)} {...rowAttributes(props.row?.(row))}>
                {cells(row)}
              </tr>
            ))}
            {props.total === undefined ? null : (
              <tr class="total" data-testid={`${testId}-total`}>
                {cells(props.total)}
              </tr>
            )}
          </Table>
        </div>
      )}
      {rows.length > shown.length ? (
        <button
          type="button"
          class="show-more"
          data-testid={`${testId}-more`}
          onClick={() => setWindowed({ key: windowKey, count: count + WINDOW })}
        >
          {t("table.show_more", { count: Math.min(WINDOW, rows.length - shown.length) })}
        </button>
      ) : null}
    </div>
  );
}

/** `testId` becomes `data-testid`; every other name is passed as it is (`class`, `data-*`). */
function rowAttributes(attributes: RowAttributes | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined) continue;
    out[name === "testId" ? "data-testid" : name] = String(value);
  }
  return out;
}
