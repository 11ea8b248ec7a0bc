// A bar chart (Chart.js, bundled; no animation so it draws at once): labels along the bottom,
// one or more series of integer values, values shown through the caller's formatter.

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import { groupDigits } from "../format";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface BarSeries {
  label: string;
  values: readonly number[];
  color: string;
}

/** Colours for series in order (the first is the apps' accent). */
export const SERIES_COLORS = ["#1f6feb", "#f5a524", "#1a7f37", "#8250df", "#c62828", "#0891b2", "#6b7280"] as const;

export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length] ?? "#1f6feb";
}

export function BarChart(props: {
  labels: readonly string[];
  series: readonly BarSeries[];
  /** How a value reads in the tooltip, e.g. formatted won. */
  formatValue: (value: number) => string;
  /** What the chart shows, for screen readers. */
  label: string;
  testId: string;
  /** Series stacked in one bar per label rather than side by side. */
  stacked?: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"bar"> | null>(null);
  const stacked = props.stacked === true;

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
        scales: {
          x: { stacked },
          // Whole numbers only: won and litres are never shown in fractions on the axis.
          y: { stacked, beginAtZero: true, ticks: { precision: 0, callback: (value) => groupDigits(Number(value)) } },
        },
      },
    });
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [stacked]);

  const { labels, series, formatValue } = props;
  useEffect(() => {
    const current = chart.current;
    if (current === null) return;
    current.data.labels = [...labels];
    current.data.datasets = series.map((one) => ({
      label: one.label,
      data: [...one.values],
      backgroundColor: one.color,
    }));
    const plugins = current.options.plugins;
    if (plugins?.legend !== undefined) plugins.legend.display = series.length > 1;
    if (plugins?.tooltip !== undefined) {
      plugins.tooltip.callbacks = {
        label: (item) => {
          const value = formatValue(Number(item.raw));
          return series.length > 1 ? `${item.dataset.label ?? ""}: ${value}` : value;
        },
      };
    }
    current.update();
  }, [labels, series, formatValue, stacked]);

  return (
    <div class="chart" data-testid={props.testId}>
      <canvas ref={canvas} aria-label={props.label} role="img" />
    </div>
  );
}
