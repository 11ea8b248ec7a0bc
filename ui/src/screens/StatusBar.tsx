// Always-visible bar: HQ connection, events waiting to be sent, printer state, receipts set aside.

import type { LiveState } from "../api";
import { useApp } from "../context";
import type { TextKey } from "../i18n";

export function StatusBar(props: { live: LiveState | null; connected: boolean }) {
  const { t } = useApp();
  const { live } = props;
  const online = live?.sync.connected === true;
  const printer = live?.printer.state ?? "unknown";
  return (
    <footer class="statusbar">
      <span class={online ? "pill ok" : "pill bad"} data-testid="status-sync" data-state={online ? "online" : "offline"}>
        {online ? t("status.online") : t("status.offline")}
      </span>
      <span class="pill">
        {t("status.backlog")}: <strong data-testid="status-backlog">{live?.sync.backlog ?? 0}</strong>
      </span>
      <span
        class={printer === "ready" ? "pill ok" : printer === "not_configured" ? "pill" : "pill warn"}
        data-testid="status-printer"
        data-state={printer}
      >
        {t("status.printer")}: {t(`device.${printer}` as TextKey)}
        {live !== null && live.waiting_receipts > 0 ? ` (${live.waiting_receipts})` : ""}
      </span>
      {live !== null && live.set_aside_receipts > 0 ? (
        <span class="pill warn" data-testid="status-set-aside" data-count={live.set_aside_receipts}>
          {t("status.set_aside")}: <strong>{live.set_aside_receipts}</strong>
        </span>
      ) : null}
      {props.connected ? null : <span class="pill warn">{t("status.live_lost")}</span>}
    </footer>
  );
}
