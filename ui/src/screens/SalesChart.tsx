// Bar chart of the net amount per product (Chart.js, bundled; no animation so it draws at once).

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import type { SummaryRow } from "../api";
import { formatWon, groupDigits } from "../format";
import type { Lang } from "../i18n";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export function SalesChart(props: { rows: SummaryRow[]; names: Map<string, string>; lang: Lang; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"bar"> | null>(null);

  useEffect(() => {
    if (canvas.current === null) return;
    chart.current = new Chart(canvas.current, {
      type: "bar",
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { callback: (value) => groupDigits(Number(value)) } } },
      },
    });
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);

  const { rows, names, lang, label } = props;
  useEffect(() => {
    const current = chart.current;
    if (current === null) return;
    current.data.labels = rows.map((row) => names.get(row.product) ?? row.product);
    current.data.datasets = [
      {
        label,
        data: rows.map((row) => row.net_amount_won),
        backgroundColor: "#1f6feb",
      },
    ];
    const tooltip = current.options.plugins?.tooltip;
    if (tooltip !== undefined) {
      tooltip.callbacks = { label: (item) => formatWon(Number(item.raw), lang) };
    }
    current.update();
  }, [rows, names, lang, label]);

  return (
    <div class="chart" data-testid="sales-chart">
      <canvas ref={canvas} aria-label={label} role="img" />
    </div>
  );
}
