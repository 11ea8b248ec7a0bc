// Network sales by day, product, station or operating type over a date range, with filters; a
// chart; optionally a second period side by side with the differences; every table as CSV.

import { useMemo, useState } from "preact/hooks";
import { BarChart, seriesColor } from "../../shared/components/BarChart";
import { Field, SelectField } from "../../shared/components/form";
import {
  addDays,
  dateInZone,
  daysBetween,
  formatTenths,
  formatWon,
} from "../../shared/format";
import {
  api,
  OPERATING_TYPES,
  SALES_BY,
  type OperatingType,
  type SalesBy,
  type SalesReport,
  type SalesReportFilter,
  type SalesReportRow,
} from "../api";
import { ReportTable, countColumn, litresColumn, wonColumn, type ReportColumn } from "../components/ReportTable";
import { StationFilter } from "../components/StationFilter";
import { useHq } from "../context";
import { useTopicData } from "../hooks";

/** Days in the range the screen opens with (today and the 6 before). */
const DEFAULT_DAYS = 7;

interface Range {
  from: string;
  to: string;
}

/** One line of the table: the first period's row and, when comparing, the second's. */
interface ComparedRow {
  key: string;
  label: string;
  first: SalesReportRow | null;
  second: SalesReportRow | null;
}

export function SalesScreen() {
  const { t, lang, timeZone, products } = useHq();
  const [by, setBy] = useState<SalesBy>("day");
  const [range, setRange] = useState<Range>(() => {
    const to = dateInZone(timeZone);
    return { from: addDays(to, 1 - DEFAULT_DAYS), to };
  });
  const [station, setStation] = useState("");
  const [product, setProduct] = useState("");
  const [type, setType] = useState<OperatingType | "">("");
  const [comparing, setComparing] = useState<Range | null>(null);

  const filter = (period: Range): SalesReportFilter => ({
    ...period,
    by,
    station,
    product,
    operating_type: type,
  });
  const valid = (period: Range | null) => period !== null && period.from <= period.to;
  const deps = [by, station, product, type];
  const first = useTopicData(
    () => (valid(range) ? api.salesReport(filter(range)) : Promise.resolve(null)),
    ["sales", "stations"],
    [...deps, range.from, range.to],
  ).data;
  const second = useTopicData(
    () => (comparing !== null && valid(comparing) ? api.salesReport(filter(comparing)) : Promise.resolve(null)),
    ["sales", "stations"],
    [...deps, comparing?.from, comparing?.to],
  ).data;

  const label = (row: SalesReportRow) => {
    const operatingType = OPERATING_TYPES.find((known) => known === row.key);
    return by === "operating_type" && operatingType !== undefined ? t(`operating_type.${operatingType}`) : row.label;
  };
  const shownSecond = comparing === null ? null : second;
  // A report answered for other choices than those now on screen is not shown.
  const current = (report: SalesReport | null, period: Range | null) =>
    report !== null && period !== null && report.by === by && report.from === period.from && report.to === period.to
      ? report
      : null;
  const firstShown = current(first, range);
  const secondShown = current(shownSecond, comparing);
  const rows = useMemo(
    () => (firstShown === null ? [] : compare(firstShown, secondShown, label)),
    [firstShown, secondShown, lang],
  );
  const total: ComparedRow | undefined =
    firstShown === null
      ? undefined
      : { key: "total", label: t("common.total"), first: firstShown.total, second: secondShown?.total ?? null };

  const columns = useSalesColumns(comparing !== null);
  const chart = useMemo(() => {
    const series = [
      {
        label: t("sales.period", { from: range.from, to: range.to }),
        values: rows.map((row) => row.first?.net_amount_won ?? 0),
        color: seriesColor(0),
      },
    ];
    if (comparing !== null) {
      series.push({
        label: t("sales.period", { from: comparing.from, to: comparing.to }),
        values: rows.map((row) => row.second?.net_amount_won ?? 0),
        color: seriesColor(1),
      });
    }
    return { labels: rows.map((row) => row.label), series };
  }, [rows, comparing, range, t]);
  const formatValue = useMemo(() => (won: number) => formatWon(won, lang), [lang]);

  const toggleCompare = (on: boolean) => {
    if (!on) {
      setComparing(null);
      return;
    }
    // The period just before, as long as the first.
    const days = Math.max(daysBetween(range.from, range.to), 0) + 1;
    setComparing({ from: addDays(range.from, -days), to: addDays(range.from, -1) });
  };

  const exportName =
    comparing === null
      ? `sales-${by}-${range.from}-${range.to}`
      : `sales-${by}-${range.from}-${range.to}-vs-${comparing.from}-${comparing.to}`;

  return (
    <div class="sales">
      <h1>{t("sales.title")}</h1>
      <section class="card">
        <div class="filters">
          <SelectField
            label={t("sales.by")}
            testId="sales-by"
            value={by}
            onValue={(value) => setBy(SALES_BY.find((known) => known === value) ?? "day")}
          >
            {SALES_BY.map((known) => (
              <option key={known} value={known}>
                {t(`sales.by.${known}`)}
              </option>
            ))}
          </SelectField>
          <RangeFields range={range} onRange={setRange} fromTestId="sales-from" toTestId="sales-to" />
          <StationFilter testId="sales-filter-station" onStation={setStation} />
          <SelectField label={t("common.product")} testId="sales-filter-product" value={product} onValue={setProduct}>
            <option value="">{t("filter.all")}</option>
            {products.map((p) => (
              <option key={p.product} value={p.product}>
                {p.product} · {p.name}
              </option>
            ))}
          </SelectField>
          <SelectField
            label={t("station.operating_type")}
            testId="sales-filter-type"
            value={type}
            onValue={(value) => setType(OPERATING_TYPES.find((known) => known === value) ?? "")}
          >
            <option value="">{t("filter.all")}</option>
            {OPERATING_TYPES.map((known) => (
              <option key={known} value={known}>
                {t(`operating_type.${known}`)}
              </option>
            ))}
          </SelectField>
        </div>
        <div class="filters">
          <label class="switch">
            <input
              type="checkbox"
              data-testid="sales-compare"
              checked={comparing !== null}
              onChange={(e) => toggleCompare(e.currentTarget.checked)}
            />
            <span>{t("sales.compare")}</span>
          </label>
          {comparing === null ? null : (
            <RangeFields
              range={comparing}
              onRange={setComparing}
              fromTestId="sales-compare-from"
              toTestId="sales-compare-to"
              second
            />
          )}
        </div>
        {!valid(range) || (comparing !== null && !valid(comparing)) ? (
          <p class="bad" role="alert" data-testid="sales-range-error">
            {t("range.invalid")}
          </p>
        ) : null}
      </section>
      <section class="card">
        <BarChart
          labels={chart.labels}
          series={chart.series}
          formatValue={formatValue}
          label={t("sales.chart")}
          testId="sales-chart"
        />
        {firstShown === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <ReportTable
            testId="sales-table"
            exportTestId="sales-export"
            exportName={exportName}
            columns={columns}
            rows={rows}
            total={total}
            rowKey={(row) => row.key}
            row={(row) => ({
              testId: `sales-row-${row.key}`,
              "data-net-won": row.first?.net_amount_won ?? 0,
              "data-compare-net-won": comparing === null ? undefined : (row.second?.net_amount_won ?? 0),
              "data-difference-won":
                comparing === null ? undefined : (row.first?.net_amount_won ?? 0) - (row.second?.net_amount_won ?? 0),
            })}
            windowKey={exportName}
          />
        )}
      </section>
    </div>
  );
}

function RangeFields(props: {
  range: Range;
  onRange: (range: Range) => void;
  fromTestId: string;
  toTestId: string;
  /** The second period's fields, named so. */
  second?: boolean;
}) {
  const { t } = useHq();
  const { range } = props;
  const second = props.second === true;
  return (
    <>
      <Field label={t(second ? "sales.compare_from" : "range.from")}>
        <input
          type="date"
          data-testid={props.fromTestId}
          value={range.from}
          onChange={(e) => e.currentTarget.value !== "" && props.onRange({ ...range, from: e.currentTarget.value })}
        />
      </Field>
      <Field label={t(second ? "sales.compare_to" : "range.to")}>
        <input
          type="date"
          data-testid={props.toTestId}
          value={range.to}
          onChange={(e) => e.currentTarget.value !== "" && props.onRange({ ...range, to: e.currentTarget.value })}
        />
      </Field>
    </>
  );
}

/**
 * The rows of the first report beside those of the second: by day, the n-th day of one period
 * beside the n-th of the other; otherwise the same key (product, station, operating type).
 */
function compare(
  first: SalesReport,
  second: SalesReport | null,
  label: (row: SalesReportRow) => string,
): ComparedRow[] {
  if (second === null) return first.rows.map((row) => ({ key: row.key, label: label(row), first: row, second: null }));
  if (first.by === "day") {
    const byOffset = (report: SalesReport) =>
      new Map(report.rows.map((row) => [daysBetween(report.from, row.key), row]));
    const firstDays = byOffset(first);
    const secondDays = byOffset(second);
    const offsets = [...new Set([...firstDays.keys(), ...secondDays.keys()])].sort((a, b) => a - b);
    return offsets.map((offset) => {
      const day = addDays(first.from, offset);
      return {
        key: day,
        label: `${day} / ${addDays(second.from, offset)}`,
        first: firstDays.get(offset) ?? null,
        second: secondDays.get(offset) ?? null,
      };
    });
  }
  const secondByKey = new Map(second.rows.map((row) => [row.key, row]));
  const firstKeys = new Set(first.rows.map((row) => row.key));
  return [
    ...first.rows.map((row) => ({
      key: row.key,
      label: label(row),
      first: row,
      second: secondByKey.get(row.key) ?? null,
    })),
    ...second.rows
      .filter((row) => !firstKeys.has(row.key))
      .map((row) => ({ key: row.key, label: label(row), first: null, second: row })),
  ];
}

/** The change from the second period to the first in per cent, to one decimal ("—" from zero). */
function changePercent(first: number, second: number): string {
  if (second === 0) return "—";
  const tenths = Math.round(((first - second) * 1000) / Math.abs(second));
  return `${tenths > 0 ? "+" : ""}${formatTenths(tenths)} %`;
}

function useSalesColumns(comparing: boolean): ReportColumn<ComparedRow>[] {
  const { t, lang } = useHq();
  return useMemo(() => {
    const key: ReportColumn<ComparedRow> = { header: t("sales.key"), cell: (r) => r.label, csv: (r) => r.label };
    const won = (header: string, value: (r: ComparedRow) => number) => wonColumn(header, value, lang);
    const count = (header: string, value: (r: ComparedRow) => number) => countColumn(header, value);
    const litres = (header: string, value: (r: ComparedRow) => number) => litresColumn(header, value);
    const net1 = (r: ComparedRow) => r.first?.net_amount_won ?? 0;
    const net2 = (r: ComparedRow) => r.second?.net_amount_won ?? 0;
    if (!comparing) {
      return [
        key,
        count(t("sales.count"), (r) => r.first?.sales_count ?? 0),
        litres(t("sales.volume"), (r) => r.first?.sales_volume_ml ?? 0),
        count(t("sales.quantity"), (r) => r.first?.sales_quantity ?? 0),
        won(t("sales.gross"), (r) => r.first?.sales_amount_won ?? 0),
        won(t("sales.canceled_amount"), (r) => r.first?.canceled_amount_won ?? 0),
        won(t("sales.net"), net1),
      ];
    }
    return [
      key,
      won(t("sales.net_first"), net1),
      won(t("sales.net_second"), net2),
      {
        header: t("sales.difference"),
        num: true,
        cell: (r) => {
          const difference = net1(r) - net2(r);
          return (
            <span class={difference < 0 ? "bad" : difference > 0 ? "ok" : undefined}>
              {formatWon(difference, lang)}
            </span>
          );
        },
        csv: (r) => net1(r) - net2(r),
      },
      {
        header: t("sales.change"),
        num: true,
        cell: (r) => changePercent(net1(r), net2(r)),
        csv: (r) => changePercent(net1(r), net2(r)),
      },
      count(t("sales.count_first"), (r) => r.first?.sales_count ?? 0),
      count(t("sales.count_second"), (r) => r.second?.sales_count ?? 0),
      litres(t("sales.volume_first"), (r) => r.first?.sales_volume_ml ?? 0),
      litres(t("sales.volume_second"), (r) => r.second?.sales_volume_ml ?? 0),
    ];
  }, [t, lang, comparing]);
}
