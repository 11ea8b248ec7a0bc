// The cashier's shift: open it with a float; close it with the counted cash and see over/short.
// The count is blind: the expected cash is shown only after the shift is closed, so the count is
// what the drawer holds, not what the screen says it should; closing asks to be confirmed, since
// a closed shift cannot be reopened.

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
  /** The counted cash the cashier is asked to confirm, once entered. */
  const [confirming, setConfirming] = useState<number | null>(null);
  const [report, setReport] = useState<ShiftReport | null>(null);

  const open = async () => {
    const won = parseWon(float === "" ? "0" : float);
    if (won === null) {
      showProblem(t("shift.bad_float"));
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
      showProblem(t("shift.bad_counted"));
      return;
    }
    if (confirming !== won) {
      setConfirming(won);
      return;
    }
    const result = await run(() => api.closeShift(won));
    if (result.ok) {
      setClosing(false);
      setCounted("");
      setConfirming(null);
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
          <button type="button" data-testid="shift-close-open" onClick={() => setClosing(true)}>
            {t("shift.close_open")}
          </button>
        </div>
      )}
      {closing && shift !== null && shift !== undefined ? (
        <FormDialog
          title={t("shift.close_title")}
          onClose={() => {
            setClosing(false);
            setConfirming(null);
          }}
          onSubmit={close}
          submitLabel={confirming === null ? t("shift.close") : t("shift.close_confirm")}
          submitTestId="shift-close"
          danger={confirming !== null}
        >
          <p class="muted">{t("shift.count_blind")}</p>
          <TextField
            label={t("shift.counted")}
            testId="shift-counted"
            inputMode="numeric"
            value={counted}
            onValue={(value) => {
              setConfirming(null);
              setCounted(value);
            }}
          />
          {confirming === null ? null : (
            <p class="warn" data-testid="shift-close-check" data-won={confirming}>
              {t("shift.close_check", { amount: formatWon(confirming, lang) })}
            </p>
          )}
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
