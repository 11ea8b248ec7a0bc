// Open alerts: what kind, at which station, since when, and what it is about, said from the
// hub's figures in the page's language.

import { useMemo } from "preact/hooks";
import { formatLitres, formatTenths, formatTime, groupDigits } from "../../shared/format";
import type { Alert } from "../api";
import { useHq } from "../context";
import { ReportTable, type ReportColumn } from "./ReportTable";
import { StationLink } from "./StationLink";

export function AlertTable(props: { alerts: readonly Alert[]; testId: string; exportName: string }) {
  const { t, timeZone } = useHq();
  const columns = useMemo(
    (): ReportColumn<Alert>[] => [
      {
        header: t("alerts.kind"),
        cell: (a) => <span class={`pill alert-${a.kind}`}>{t(`alert_kind.${a.kind}`)}</span>,
        csv: (a) => t(`alert_kind.${a.kind}`),
      },
      { header: t("station.id"), cell: (a) => <StationLink station={a.station} />, csv: (a) => a.station },
      { header: t("common.name"), cell: (a) => a.name, csv: (a) => a.name },
      {
        header: t("alerts.since"),
        cell: (a) => <span class="nowrap">{since(a.since, timeZone)}</span>,
        csv: (a) => since(a.since, timeZone),
      },
      { header: t("alerts.detail"), cell: (a) => detail(a, t), csv: (a) => detail(a, t) },
    ],
    [t, timeZone],
  );
  return (
    <ReportTable
      testId={props.testId}
      exportName={props.exportName}
      columns={columns}
      rows={props.alerts}
      rowKey={(a) => `${a.kind}-${a.station}`}
      row={(a) => ({ testId: `alert-row-${a.kind}-${a.station}`, "data-kind": a.kind })}
    />
  );
}

/** A time in the zone shown; a business day as it is. */
function since(value: string | null, timeZone: string): string {
  return value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : formatTime(value, timeZone);
}

/** The alert's detail in the page's language, its figures formatted by their unit. */
function detail(alert: Alert, t: ReturnType<typeof useHq>["t"]): string {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(alert.figures)) {
    if (name.endsWith("_ml")) params[name] = formatLitres(value);
    else if (name.endsWith("_tenths")) params[name] = formatTenths(value);
    else if (name === "holds" && value === 0) params[name] = t("alert_detail.none");
    else params[name] = groupDigits(value);
  }
  return t(`alert_detail.${alert.kind}`, params);
}
