// Bar chart of the net amount per product.

import { useMemo } from "preact/hooks";
import type { SummaryRow } from "../api";
import { BarChart, seriesColor } from "../shared/components/BarChart";
import { formatWon } from "../shared/format";
import type { Lang } from "../shared/i18n";

export function SalesChart(props: { rows: SummaryRow[]; names: Map<string, string>; lang: Lang; label: string }) {
  const { rows, names, lang, label } = props;
  const labels = useMemo(() => rows.map((row) => names.get(row.product) ?? row.product), [rows, names]);
  const series = useMemo(
    () => [{ label, values: rows.map((row) => row.net_amount_won), color: seriesColor(0) }],
    [rows, label],
  );
  const formatValue = useMemo(() => (won: number) => formatWon(won, lang), [lang]);
  return <BarChart labels={labels} series={series} formatValue={formatValue} label={label} testId="sales-chart" />;
}
