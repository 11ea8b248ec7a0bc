// The cashier's shift: open it with a float; close it with the counted cash and see over/short.

import { useState } from "preact/hooks";
import { api, type Shift, type ShiftReport } from "../api";
import { Form, TextField } from "../shared/components/form";
import { FormDialog, Modal } from "../shared/components/Modal";
import { useApp } from "../context";
import { formatTime, formatWon, parseWon } from "../shared/format";
import { useLoad } from "../hooks";

export function ShiftPanel() {
  const { t, lang, run, live, timeZone, showProblem } = useApp();
  const [shift, setShift] = useLoad<Shift | null | undefined>(() => api.shift(), undefined, [live?.revision]);
  const [float, setFloat] = useState("");
  const [closing, setClosing] = useState(false);
  const [counted, setCounted] = useState("");
  const [report, setReport] = useState<ShiftReport | null>(null);

  const open = async () => {
    const won = parseWon(float === "" ? "0" : float);
    if (won === null) {
      showProblem(t("pay.bad_tendered"));
      return;
    }
    const result = await run(() => api.openShift(won));
    if (result.ok) {
      setShift(result.value);
      setFloat("");
    }
  };

  const close = async () => {
    const won = parseWon(counted);
    if (won === null) {
      showProblem(t("pay.bad_tendered"));
      return;
    }
    const result = await run(() => api.closeShift(won));
    if (result.ok) {
      setClosing(false);
      setCounted("");
      setReport(result.value);
      setShift(null);
    }
  };

  const overShort = report?.over_short_won ?? 0;

  return (
    <section class="shift-panel">
      {shift === undefined ? null : shift === null ? (
        <Form class="card row-form" onSubmit={open} submitLabel={t("shift.open")} submitTestId="shift-open">
          <h2>{t("shift.open_title")}</h2>
          <TextField
            label={t("shift.float")}
            testId="shift-float"
            inputMode="numeric"
            placeholder="0"
            value={float}
            onValue={setFloat}
          />
        </Form>
      ) : (
        <div class="shift-info">
          <span data-testid="shift-current">{t("shift.current", { time: formatTime(shift.opened_at, timeZone) })}</span>
          <span>
            {t("shift.expected")}: <strong>{formatWon(shift.expected_cash_won, lang)}</strong>
          </span>
          <button type="button" data-testid="shift-close-open" onClick={() => setClosing(true)}>
            {t("shift.close_open")}
          </button>
        </div>
      )}
      {closing && shift !== null && shift !== undefined ? (
        <FormDialog
          title={t("shift.close_title")}
          onClose={() => setClosing(false)}
          onSubmit={close}
          submitLabel={t("shift.close")}
          submitTestId="shift-close"
        >
          <p>
            {t("shift.expected")}: <strong>{formatWon(shift.expected_cash_won, lang)}</strong>
          </p>
          <TextField
            label={t("shift.counted")}
            testId="shift-counted"
            inputMode="numeric"
            value={counted}
            onValue={setCounted}
          />
        </FormDialog>
      ) : null}
      {report === null ? null : (
        <Modal title={t("shift.closed_title")} onClose={() => setReport(null)}>
          <dl class="facts">
            <dt>{t("sales.float")}</dt>
            <dd>{formatWon(report.opening_float_won, lang)}</dd>
            <dt>{t("sales.expected")}</dt>
            <dd>{formatWon(report.expected_cash_won, lang)}</dd>
            <dt>{t("sales.counted")}</dt>
            <dd>{formatWon(report.counted_cash_won ?? 0, lang)}</dd>
            <dt>{t("shift.over_short")}</dt>
            <dd>
              <strong
                data-testid="over-short"
                data-won={overShort}
                class={overShort < 0 ? "bad" : overShort > 0 ? "warn" : "ok"}
              >
                {overShort > 0 ? "+" : ""}
                {formatWon(overShort, lang)} (
                {overShort > 0 ? t("shift.over") : overShort < 0 ? t("shift.short") : t("shift.balanced")})
              </strong>
            </dd>
          </dl>
          <button type="button" class="primary big" onClick={() => setReport(null)}>
            {t("common.done")}
          </button>
        </Modal>
      )}
    </section>
  );
}
