// Sync with HQ and the station's devices, from the live state; for managers the station's limits
// at the counter, the receipts set aside (with a fallback copy to print), where the station's history and HQ's differed (a
// restored backup, a re-installed PC) and the dead letters.

import { useEffect, useState } from "preact/hooks";
import { api, type DeviceState, type Divergence, type Limits, type SetAsideReceipt } from "../api";
import { Form, TextField } from "../shared/components/form";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { formatTime } from "../shared/format";
import { useLoad, useLoadOnce } from "../hooks";
import { useBusy } from "../shared/hooks";
import type { TextKey } from "../i18n";

export function SyncScreen() {
  const { t, live, timeZone, run, notify } = useApp();
  const [deadLetters] = useLoadOnce(() => api.deadLetters(), []);
  // Read again whenever the live count changes; a row whose fallback copy was queued here stays
  // (marked so) although the station no longer lists it as set aside.
  const [setAside] = useLoad(() => api.setAsideReceipts(), [] as SetAsideReceipt[], [live?.set_aside_receipts]);
  const [divergences] = useLoad(() => api.divergences(), [] as Divergence[], [live?.sync.divergences]);
  const [queued, setQueued] = useState<SetAsideReceipt[]>([]);
  const [busy, whileBusy] = useBusy();
  const rows = [...queued.filter((q) => !setAside.some((r) => r.job === q.job)), ...setAside].sort((a, b) =>
    (a.set_aside_at ?? "").localeCompare(b.set_aside_at ?? ""),
  );

  const printFallback = (receipt: SetAsideReceipt) =>
    whileBusy(async () => {
      const result = await run(() => api.printFallback(receipt.job));
      if (!result.ok) return;
      setQueued((before) => [...before.filter((q) => q.job !== receipt.job), receipt]);
      notify(t("sync.fallback_done", { no: receiptLabel(receipt) }));
    });

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
          <dt>{t("sync.held")}</dt>
          <dd data-testid="sync-held" data-state={live?.sync.held ? "held" : "none"}>
            {live?.sync.held ? <span class="pill warn">{live.sync.held}</span> : t("sync.held_none")}
          </dd>
          <dt>{t("sync.divergence_count")}</dt>
          <dd data-testid="sync-divergences">{live?.sync.divergences ?? 0}</dd>
        </dl>
      </section>
      <LimitsCard />
      <section class="card">
        <h2>{t("sync.devices")}</h2>
        <Table>
          {device("sync.printer", live?.printer, "device-printer")}
          {device("sync.gauge", live?.gauge, "device-gauge")}
          {device("sync.pump_line", live?.pump_line, "device-pump-line")}
        </Table>
      </section>
      <section class="card">
        <h2>{t("sync.set_aside")}</h2>
        {rows.length === 0 ? <p class="muted">{t("common.empty")}</p> : null}
        {rows.length === 0 ? null : (
          <Table
            testId="set-aside-receipts"
            columns={[t("sync.set_aside_receipt"), t("sync.set_aside_at"), t("sync.set_aside_why"), ""]}
          >
            {rows.map((r) => {
              const done = queued.some((q) => q.job === r.job);
              return (
                <tr key={r.job} data-testid="set-aside-row" data-job={r.job} data-state={done ? "queued" : "set_aside"}>
                  <td class="mono">{receiptLabel(r)}</td>
                  <td>{formatTime(r.set_aside_at, timeZone)}</td>
                  <td>{r.last_error ?? ""}</td>
                  <td class="actions">
                    {done ? (
                      <span class="pill ok" data-testid="fallback-queued">
                        {t("sync.fallback_queued")}
                      </span>
                    ) : (
                      <button
                        type="button"
                        data-testid="fallback-print"
                        disabled={busy}
                        aria-label={t("sync.fallback_label", { no: receiptLabel(r) })}
                        onClick={() => void printFallback(r)}
                      >
                        {t("sync.fallback")}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </section>
      <section class="card">
        <h2>{t("sync.divergences")}</h2>
        {divergences.length === 0 ? <p class="muted">{t("common.empty")}</p> : null}
        {divergences.length === 0 ? null : (
          <Table
            testId="divergences"
            columns={[t("sync.detected"), t("sync.direction"), t("sync.kind"), t("sync.detail")]}
          >
            {divergences.map((d) => (
              <tr key={`${d.detected_at}-${d.direction}-${d.kind}`} data-testid="divergence-row" data-kind={d.kind}>
                <td>{formatTime(d.detected_at, timeZone)}</td>
                <td>{t(d.direction === "up" ? "sync.direction.up" : "sync.direction.down")}</td>
                <td class="mono">{d.kind}</td>
                <td>{d.detail}</td>
              </tr>
            ))}
          </Table>
        )}
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

/** The receipt number, or the print job's when the sale cannot be read. */
function receiptLabel(receipt: SetAsideReceipt): string {
  return receipt.receipt_no ?? `#${receipt.job}`;
}

/** The station's limits on what a cashier keys in (a manager's change): past them a sale needs
 * a manager's confirmation. */
function LimitsCard() {
  const { t, run, notify } = useApp();
  const [limits, setLimits] = useLoadOnce<Limits | null>(() => api.limits(), null);
  const [tender, setTender] = useState("");
  const [litres, setLitres] = useState("");
  const [busy, whileBusy] = useBusy();
  useEffect(() => {
    if (limits === null) return;
    setTender(String(limits.largest_tender_won));
    setLitres(String(limits.largest_manual_volume_ml / 1000));
  }, [limits]);

  const save = () =>
    whileBusy(async () => {
      const largest_tender_won = Number(tender.replaceAll(",", ""));
      const largest_manual_volume_ml = Math.round(Number(litres.replaceAll(",", "")) * 1000);
      const result = await run(() => api.setLimits({ largest_tender_won, largest_manual_volume_ml }));
      if (result.ok) {
        setLimits(result.value);
        notify(t("limits.saved"));
      }
    });

  return (
    <section class="card" data-testid="limits">
      <h2>{t("limits.title")}</h2>
      <p class="muted">{t("limits.hint")}</p>
      <Form class="row-form" onSubmit={save} submitLabel={t("limits.save")} submitTestId="limits-save" busy={busy}>
        <TextField
          label={t("limits.largest_tender")}
          testId="limits-tender"
          inputMode="numeric"
          value={tender}
          onValue={setTender}
        />
        <TextField
          label={t("limits.largest_manual_litres")}
          testId="limits-litres"
          inputMode="decimal"
          value={litres}
          onValue={setLitres}
        />
      </Form>
    </section>
  );
}
