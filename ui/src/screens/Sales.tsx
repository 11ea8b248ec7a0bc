// The day's sales with reprint and cancel; for managers also the summary per product, its
// chart, the day report and closing the business day, after a summary of what is still open
// (shifts, unpaid fuelings) and each tank's book stock against its gauge.

import { useMemo, useState } from "preact/hooks";
import { api, type DayReport, type Fueling, type Sale, type Shift, type SummaryRow, type Tank } from "../api";
import { Field, TextField } from "../shared/components/form";
import { FormDialog, Modal } from "../shared/components/Modal";
import { Table } from "../shared/components/Table";
import { ManagerFields } from "../components/ManagerFields";
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

  const [closingDay, setClosingDay] = useState(false);
  const closeDay = async () => {
    const result = await run(() => api.closeDay());
    if (result.ok) {
      setClosingDay(false);
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
                  <button type="button" class="danger big" data-testid="day-close" onClick={() => setClosingDay(true)}>
                    {t("sales.day_close")}
                  </button>
                )}
              </>
            )}
          </section>
        </>
      ) : null}
      {closingDay && report !== null ? (
        <DayCloseDialog report={report} onClose={() => setClosingDay(false)} onConfirm={closeDay} />
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
        <ManagerFields
          testIds={{ manager: "cancel-manager", pin: "cancel-manager-pin" }}
          manager={manager}
          onManager={setManager}
          pin={managerPin}
          onPin={setManagerPin}
        />
      ) : null}
    </FormDialog>
  );
}

/** What a manager sees before closing the day: the shifts still open (the day cannot close
 * until they are), the fuelings not yet paid, and each tank's book stock against its gauge. */
function DayCloseDialog(props: { report: DayReport; onClose: () => void; onConfirm: () => Promise<void> }) {
  const { t, lang } = useApp();
  const [fuelings] = useLoad<Fueling[] | null>(() => api.fuelings(), null, []);
  const [tanks] = useLoad<Tank[] | null>(() => api.stock().then((stock) => stock.tanks), null, []);
  const [openShifts] = useLoad<Shift[] | null>(() => api.openShifts(), null, []);
  return (
    <Modal title={t("day_close.title", { day: props.report.business_day })} onClose={props.onClose} testId="day-close-dialog">
      <div class="stack">
        <p>
          {t("sales.net")}: <strong>{formatWon(props.report.net_amount_won, lang)}</strong>
        </p>
        {openShifts !== null && openShifts.length > 0 ? (
          <p class="bad" data-testid="day-close-open-shifts" data-count={openShifts.length}>
            {t("day_close.open_shifts", { cashiers: openShifts.map((shift) => shift.cashier).join(", ") })}
          </p>
        ) : null}
        <p data-testid="day-close-unpaid" data-count={fuelings?.length ?? ""}>
          {fuelings === null
            ? t("common.loading")
            : fuelings.length === 0
              ? t("day_close.no_unpaid")
              : t("day_close.unpaid", { count: fuelings.length, pumps: [...new Set(fuelings.map((f) => f.pump))].join(", ") })}
        </p>
        {tanks === null ? null : (
          <Table columns={[t("day_close.tank"), { num: t("stock.book") }, { num: t("stock.measured") }, { num: t("day_close.difference") }]}>
            {tanks.map((tank) => {
              const difference = tank.measured_ml === null ? null : tank.measured_ml - tank.book_stock_ml;
              return (
                <tr key={tank.tank} data-testid={`day-close-tank-${tank.tank}`} data-difference-ml={difference ?? ""}>
                  <td>{t("stock.tank", { tank: tank.tank })}</td>
                  <td class="num">{formatLitres(tank.book_stock_ml)} L</td>
                  <td class="num">{tank.measured_ml === null ? "—" : `${formatLitres(tank.measured_ml)} L`}</td>
                  <td class="num">{difference === null ? "—" : `${difference > 0 ? "+" : ""}${formatLitres(difference)} L`}</td>
                </tr>
              );
            })}
          </Table>
        )}
        <p class="muted">{t("day_close.irreversible")}</p>
        <button
          type="button"
          class="danger big"
          data-testid="day-close-confirm"
          disabled={openShifts === null || openShifts.length > 0}
          onClick={() => void props.onConfirm()}
        >
          {t("day_close.confirm")}
        </button>
      </div>
    </Modal>
  );
}
