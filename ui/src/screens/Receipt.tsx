// On-screen receipt preview of a settled (or canceled) sale.

import type { Sale } from "../api";
import { AmountLine } from "../components/AmountLine";
import { Modal } from "../shared/components/Modal";
import { useApp } from "../context";
import { formatLitres, formatTime, formatWon, groupDigits } from "../shared/format";

export function ReceiptView(props: { sale: Sale; onClose: () => void }) {
  const { t, lang, station, timeZone } = useApp();
  const { sale } = props;
  const payment = sale.payment;
  return (
    <Modal title={t("receipt.title")} onClose={props.onClose} testId="receipt">
      <div class="receipt">
        <div class="receipt-head">
          <strong>{station?.name ?? ""}</strong>
          <span>
            {t("receipt.no")}: <span data-testid="receipt-no">{sale.receipt_no}</span>
          </span>
          <span>{formatTime(sale.settled_at, timeZone)}</span>
          <span>
            {t("receipt.cashier")}: {sale.cashier}
          </span>
        </div>
        {sale.canceled ? <div class="stamp">{t("receipt.canceled")}</div> : null}
        <table class="receipt-lines">
          <tbody>
            {sale.lines.map((line) => (
              <tr key={line.line_no}>
                <td>
                  {line.product_name}
                  <div class="muted small">
                    {line.volume_ml === null
                      ? `${groupDigits(line.quantity ?? 0)} × ${formatWon(line.unit_price_won, lang)}`
                      : `${formatLitres(line.volume_ml)} L × ${formatWon(line.unit_price_won, lang)}`}
                  </div>
                </td>
                <td class="num">{formatWon(line.amount_won, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <AmountLine class="receipt-total" label={t("common.total")} won={sale.total_won} testId="receipt-total" />
        <div class="receipt-row muted">
          <span>{t("receipt.vat")}</span>
          <span>{formatWon(sale.vat_included_won, lang)}</span>
        </div>
        {payment.method === "cash" ? (
          <>
            <div class="receipt-row">
              <span>{t("receipt.tendered")}</span>
              <span>{formatWon(payment.tendered_won, lang)}</span>
            </div>
            <AmountLine
              class="receipt-row"
              label={t("receipt.change")}
              won={payment.change_won}
              testId="receipt-change"
            />
          </>
        ) : payment.method === "card" ? (
          <div class="receipt-row">
            <span>{t("receipt.card")}</span>
            <span>{payment.reference}</span>
          </div>
        ) : (
          <div class="receipt-row">
            <span>{t("receipt.account")}</span>
            <span>{payment.account}</span>
          </div>
        )}
      </div>
      <button type="button" class="primary big" data-testid="receipt-close" onClick={props.onClose}>
        {t("receipt.close")}
      </button>
    </Modal>
  );
}
