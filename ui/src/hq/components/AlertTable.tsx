// Open alerts: what kind, at which station, since when, and the hub's detail.

import { useMemo } from "preact/hooks";
import { formatTime } from "../../shared/format";
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
      { header: t("alerts.detail"), cell: (a) => a.detail, csv: (a) => a.detail },
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
