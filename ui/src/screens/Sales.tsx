// The day's sales with reprint and cancel; for managers also the summary per product, its
// chart, the day report and closing the business day.

import { useMemo, useState } from "preact/hooks";
import { api, type DayReport, type Sale, type SummaryRow } from "../api";
import { Field, TextField } from "../shared/components/form";
import { FormDialog } from "../shared/components/Modal";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { dateInZone, formatLitres, formatTime, formatWon, groupDigits } from "../shared/format";
import { useLoad } from "../hooks";
import { ReceiptView } from "./Receipt";
import { SalesChart } from "./SalesChart";

export function Sales() {
  const { t, lang, live, run, station, timeZone, session, products, notify } = useApp();
  const [day, setDay] = useState<string | null>(null);
  const shownDay = day ?? station?.business_day ?? dateInZone(timeZone);
  const [viewing, setViewing] = useState<Sale | null>(null);
  const [canceling, setCanceling] = useState<Sale | null>(null);
  const manager = session.role === "manager";

  const [reloads, setReloads] = useState(0);
  const deps = [shownDay, live?.revision, manager, reloads];
  const [sales] = useLoad<Sale[] | null>(() => api.sales(shownDay).catch(() => []), null, deps);
  // The summary and the day report are the manager's; a cashier does not ask for them.
  const [summary] = useLoad<SummaryRow[]>(
    () => (manager ? api.salesSummary(shownDay).catch(() => []) : Promise.resolve([])),
    [],
    deps,
  );
  const [report, setReport] = useLoad<DayReport | null>(
    () => (manager ? api.dayReport(shownDay).catch(() => null) : Promise.resolve(null)),
    null,
    deps,
  );

  const names = useMemo(() => {
    const map = new Map<string, string>();
    for (const p of products) map.set(p.product, p.name);
    for (const sale of sales ?? []) for (const line of sale.lines) map.set(line.product, line.product_name);
    return map;
  }, [products, sales]);

  const reprint = async (sale: Sale) => {
    const result = await run(() => api.reprint(sale.sale));
    if (result.ok) notify(t("sales.reprint_queued", { no: sale.receipt_no }));
  };

  const closeDay = async () => {
    const result = await run(() => api.closeDay());
    if (result.ok) {
      setReport(result.value);
      notify(t("sales.day_closed_done", { day: result.value.business_day }));
      setReloads((n) => n + 1);
    }
  };

  return (
    <div class="sales">
      <div class="toolbar">
        <h1>{t("sales.title")}</h1>
        <Field label={t("sales.day")}>
          <input
            type="date"
            data-testid="sales-day"
            value={shownDay}
            onChange={(e) => e.currentTarget.value !== "" && setDay(e.currentTarget.value)}
          />
        </Field>
      </div>
      <section class="card">
        {sales === null ? <p class="muted">{t("common.loading")}</p> : null}
        {sales !== null && sales.length === 0 ? <p class="muted">{t("common.empty")}</p> : null}
        <Table
          testId="sales-list"
          columns={[
            t("sales.receipt"),
            t("common.time"),
            t("sales.items"),
            { num: t("common.total") },
            t("sales.payment"),
            "",
          ]}
        >
          {(sales ?? []).map((sale) => (
            <tr
              key={sale.sale}
              data-testid={`sale-row-${sale.receipt_no}`}
              data-sale={sale.sale}
              data-canceled={String(sale.canceled)}
              class={sale.canceled ? "canceled" : ""}
            >
              <td>
                <button type="button" class="link" onClick={() => setViewing(sale)}>
                  {sale.receipt_no}
                </button>
              </td>
              <td>{formatTime(sale.settled_at, timeZone)}</td>
              <td>
                {sale.lines
                  .map((line) =>
                    line.volume_ml === null
                      ? `${line.product_name} × ${groupDigits(line.quantity ?? 0)}`
                      : `${line.product_name} ${formatLitres(line.volume_ml)} L`,
                  )
                  .join(", ")}
              </td>
              <td class="num">{formatWon(sale.total_won, lang)}</td>
              <td>{t(`pay.${sale.payment.method}`)}</td>
              <td class="actions">
                <button type="button" data-testid="sale-reprint" onClick={() => void reprint(sale)}>
                  {t("sales.reprint")}
                </button>
                {sale.canceled ? (
                  <span class="badge">{t("sales.canceled")}</span>
                ) : (
                  <button type="button" class="danger" data-testid="sale-cancel" onClick={() => setCanceling(sale)}>
                    {t("sales.cancel")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </section>
      {manager ? (
        <>
          <section class="card">
            <h2>{t("sales.summary")}</h2>
            <Table
              testId="sales-summary"
              columns={[
                t("common.product"),
                { num: t("sales.count") },
                { num: t("sales.volume") },
                { num: t("sales.gross") },
                { num: t("sales.canceled_amount") },
                { num: t("sales.net") },
              ]}
            >
              {summary.map((row) => (
                <tr key={row.product} data-testid={`summary-row-${row.product}`}>
                  <td>{names.get(row.product) ?? row.product}</td>
                  <td class="num">
                    {row.sales_count}
                    {row.canceled_count > 0 ? ` (−${row.canceled_count})` : ""}
                  </td>
                  <td class="num">{formatLitres(row.sales_volume_ml - row.canceled_volume_ml)}</td>
                  <td class="num">{formatWon(row.sales_amount_won, lang)}</td>
                  <td class="num">{formatWon(row.canceled_amount_won, lang)}</td>
                  <td class="num" data-testid="summary-amount" data-won={row.net_amount_won}>
                    {formatWon(row.net_amount_won, lang)}
                  </td>
                </tr>
              ))}
            </Table>
            <h3>{t("sales.chart")}</h3>
            <SalesChart rows={summary} names={names} lang={lang} label={t("sales.net")} />
          </section>
          <section class="card" data-testid="day-report">
            <h2>
              {t("sales.report")} · {shownDay}
            </h2>
            {report === null ? null : (
              <>
                <p>
                  {report.closed ? t("sales.day_closed", { user: report.closed_by ?? "" }) : t("sales.day_open")}
                  {" · "}
                  {t("sales.net")}: <strong>{formatWon(report.net_amount_won, lang)}</strong>
                </p>
                <h3>{t("sales.shifts")}</h3>
                <Table
                  columns={[
                    t("receipt.cashier"),
                    t("sales.opened"),
                    t("sales.closed"),
                    { num: t("sales.float") },
                    { num: t("sales.expected") },
                    { num: t("sales.counted") },
                    { num: t("shift.over_short") },
                  ]}
                >
                  {report.shifts.map((shift) => (
                    <tr key={shift.shift}>
                      <td>{shift.cashier}</td>
                      <td>{formatTime(shift.opened_at, timeZone)}</td>
                      <td>{formatTime(shift.closed_at, timeZone)}</td>
                      <td class="num">{formatWon(shift.opening_float_won, lang)}</td>
                      <td class="num">{formatWon(shift.expected_cash_won, lang)}</td>
                      <td class="num">
                        {shift.counted_cash_won === null ? "" : formatWon(shift.counted_cash_won, lang)}
                      </td>
                      <td class="num">
                        {shift.over_short_won === null ? "" : formatWon(shift.over_short_won, lang)}
                      </td>
                    </tr>
                  ))}
                </Table>
                {report.closed ? null : (
                  <button type="button" class="danger big" data-testid="day-close" onClick={() => void closeDay()}>
                    {t("sales.day_close")}
                  </button>
                )}
              </>
            )}
          </section>
        </>
      ) : null}
      {viewing === null ? null : <ReceiptView sale={viewing} onClose={() => setViewing(null)} />}
      {canceling === null ? null : (
        <CancelDialog
          sale={canceling}
          onClose={() => setCanceling(null)}
          onCanceled={() => {
            setCanceling(null);
            setReloads((n) => n + 1);
          }}
        />
      )}
    </div>
  );
}

function CancelDialog(props: { sale: Sale; onClose: () => void; onCanceled: () => void }) {
  const { t, run, session, showProblem, notify } = useApp();
  const [reason, setReason] = useState("");
  const [manager, setManager] = useState("");
  const [managerPin, setManagerPin] = useState("");
  const needsApproval = session.role !== "manager";

  const submit = async () => {
    if (reason.trim() === "") {
      showProblem(t("cancel.need_reason"));
      return;
    }
    // Without a manager named, the server answers manager_required; that is the message to show.
    const body =
      needsApproval && manager.trim() !== ""
        ? { reason: reason.trim(), manager: manager.trim(), manager_pin: managerPin }
        : { reason: reason.trim() };
    const result = await run(() => api.cancelSale(props.sale.sale, body));
    if (result.ok) {
      notify(t("cancel.done", { no: props.sale.receipt_no }));
      props.onCanceled();
    } else {
      setManagerPin("");
    }
  };

  return (
    <FormDialog
      title={t("cancel.title", { no: props.sale.receipt_no })}
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={t("cancel.confirm")}
      submitTestId="cancel-confirm"
      danger
    >
      <TextField label={t("cancel.reason")} testId="cancel-reason" value={reason} onValue={setReason} />
      {needsApproval ? (
        <>
          <TextField
            label={t("cancel.manager")}
            testId="cancel-manager"
            autoComplete="off"
            value={manager}
            onValue={setManager}
          />
          <TextField
            label={t("cancel.manager_pin")}
            testId="cancel-manager-pin"
            type="password"
            inputMode="numeric"
            autoComplete="off"
            value={managerPin}
            onValue={setManagerPin}
          />
        </>
      ) : null}
    </FormDialog>
  );
}
