// Sync with HQ and the station's devices, from the live state; dead letters for managers.

import { api, type DeviceState } from "../api";
import { Table } from "../components/Table";
import { useApp } from "../context";
import { formatTime } from "../format";
import { useLoadOnce } from "../hooks";
import type { TextKey } from "../i18n";

export function SyncScreen() {
  const { t, live, timeZone } = useApp();
  const [deadLetters] = useLoadOnce(() => api.deadLetters(), []);

  const device = (label: TextKey, state: DeviceState | undefined, testId: string) => (
    <tr data-testid={testId} data-state={state?.state ?? "unknown"}>
      <td>{t(label)}</td>
      <td>
        <span class={state?.state === "ready" ? "pill ok" : state?.state === "not_configured" ? "pill" : "pill warn"}>
          {t(`device.${state?.state ?? "unknown"}` as TextKey)}
        </span>
      </td>
      <td class="muted">{state?.detail ?? ""}</td>
    </tr>
  );

  const online = live?.sync.connected === true;
  return (
    <div class="sync">
      <h1>{t("sync.title")}</h1>
      <section class="card">
        <dl class="facts">
          <dt>{t("sync.hq")}</dt>
          <dd>
            <span class={online ? "pill ok" : "pill bad"} data-testid="sync-connected" data-state={online ? "online" : "offline"}>
              {online ? t("status.online") : t("status.offline")}
            </span>
          </dd>
          <dt>{t("sync.backlog")}</dt>
          <dd data-testid="sync-backlog">{live?.sync.backlog ?? 0}</dd>
          <dt>{t("sync.acknowledged")}</dt>
          <dd>{live?.sync.acknowledged_through ?? "—"}</dd>
          <dt>{t("sync.waiting_receipts")}</dt>
          <dd>{live?.waiting_receipts ?? 0}</dd>
        </dl>
      </section>
      <section class="card">
        <h2>{t("sync.devices")}</h2>
        <Table>
          {device("sync.printer", live?.printer, "device-printer")}
          {device("sync.gauge", live?.gauge, "device-gauge")}
          {device("sync.pump_line", live?.pump_line, "device-pump-line")}
        </Table>
      </section>
      <section class="card">
        <h2>{t("sync.dead_letters")}</h2>
        {deadLetters.length === 0 ? <p class="muted">{t("common.empty")}</p> : null}
        {deadLetters.length === 0 ? null : (
          <Table
            testId="dead-letters"
            columns={[t("sync.origin"), { num: t("sync.seq") }, t("sync.code"), t("sync.reason"), t("sync.received")]}
          >
            {deadLetters.map((d) => (
              <tr key={`${d.origin}-${d.seq}`}>
                <td>{d.origin}</td>
                <td class="num">{d.seq}</td>
                <td class="mono">{d.code}</td>
                <td>{d.reason}</td>
                <td>{formatTime(d.received_at, timeZone)}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </div>
  );
}
