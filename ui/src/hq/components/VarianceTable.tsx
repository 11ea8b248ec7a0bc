// Wet-stock reconciliation rows: per tank and business day, opening + deliveries − sales against
// the closing measurement, the variance and its limit; rows over the limit are flagged.

import { useMemo } from "preact/hooks";
import { formatLitres, litresForFile } from "../../shared/format";
import type { WetStockRow } from "../api";
import { useHq } from "../context";
import { ReportTable, litresColumn, type ReportColumn } from "./ReportTable";
import { StationLink } from "./StationLink";

export function VarianceTable(props: {
  rows: readonly WetStockRow[];
  testId: string;
  exportName: string;
  /** The station column, left out on one station's screen. */
  withStation: boolean;
}) {
  const { t, productName } = useHq();
  const columns = useMemo(() => {
    const litres = (header: string, value: (row: WetStockRow) => number) => litresColumn(header, value);
    const all: ReportColumn<WetStockRow>[] = [
      { header: t("common.day"), cell: (r) => r.business_day, csv: (r) => r.business_day },
      { header: t("station.id"), cell: (r) => <StationLink station={r.station} />, csv: (r) => r.station },
      { header: t("stock.tank"), num: true, cell: (r) => r.tank, csv: (r) => r.tank },
      { header: t("common.product"), cell: (r) => productName(r.product), csv: (r) => productName(r.product) },
      litres(t("variance.opening"), (r) => r.opening_ml),
      litres(t("variance.deliveries"), (r) => r.deliveries_ml),
      litres(t("variance.sales"), (r) => r.sales_ml),
      litres(t("variance.closing"), (r) => r.closing_ml),
      {
        header: t("variance.variance"),
        num: true,
        cell: (r) => <span class={r.flagged ? "bad strong" : undefined}>{formatLitres(r.variance_ml)}</span>,
        csv: (r) => litresForFile(r.variance_ml),
      },
      litres(t("variance.limit"), (r) => r.limit_ml),
      {
        header: t("variance.flagged"),
        cell: (r) => (r.flagged ? <span class="pill bad">{t("variance.over_limit")}</span> : null),
        csv: (r) => (r.flagged ? t("variance.over_limit") : ""),
      },
    ];
    return props.withStation ? all : all.filter((_, index) => index !== 1);
  }, [t, productName, props.withStation]);

  return (
    <ReportTable
      testId={props.testId}
      exportName={props.exportName}
      columns={columns}
      rows={props.rows}
      rowKey={(r) => `${r.station}-${r.tank}-${r.business_day}`}
      row={(r) => ({
        testId: `variance-row-${r.station}-${r.tank}-${r.business_day}`,
        "data-flagged": r.flagged,
        class: r.flagged ? "flagged" : undefined,
      })}
    />
  );
}
