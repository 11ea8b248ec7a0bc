// Credit accounts: list, open one, see its movements and take a payment (cash into the
// receiver's open shift, or card with the terminal's approval number).

import { useState } from "preact/hooks";
import { api, type AccountDetail } from "../api";
import { ApiError } from "../shared/http";
import { Form, SelectField, TextField } from "../shared/components/form";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { formatTime, formatWon, parseWon } from "../shared/format";
import { useLoad } from "../hooks";

export function Accounts() {
  const { t, lang, run, notify, showProblem, timeZone, live } = useApp();
  const [selected, setSelected] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [limit, setLimit] = useState("");
  const [amount, setAmount] = useState("");
  const [method, setMethod] = useState<"cash" | "card">("cash");
  const [reference, setReference] = useState("");
  /** Why the approval number was refused, shown on its field. */
  const [referenceError, setReferenceError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);

  const deps = [live?.revision, reloads, selected];
  const [accounts] = useLoad(() => api.accounts(), [], deps);
  const [detail] = useLoad<AccountDetail | null>(
    () => (selected === null ? Promise.resolve(null) : api.account(selected).catch(() => null)),
    null,
    deps,
  );

  const open = async () => {
    const won = parseWon(limit);
    if (won === null) {
      showProblem(t("accounts.bad_limit"));
      return;
    }
    const result = await run(() => api.openAccount(name.trim(), won));
    if (result.ok) {
      notify(t("accounts.opened_done", { name: result.value.name }));
      setName("");
      setLimit("");
      setSelected(result.value.account);
      setReloads((n) => n + 1);
    }
  };

  const pay = async () => {
    if (selected === null) return;
    const won = parseWon(amount);
    if (won === null) {
      showProblem(t("accounts.bad_amount"));
      return;
    }
    const approval = reference.trim();
    if (method === "card" && approval === "") {
      setReferenceError(t("pay.need_reference"));
      return;
    }
    setReferenceError(null);
    const payment = method === "card" ? { method, reference: approval } : { method };
    // The runtime names the field of a refused approval number ("reference: …", "card
    // reference: …"): that shows on the field, every other refusal in the banner.
    const result = await run(() =>
      api.takePayment(selected, won, payment).then(
        () => null,
        (error: unknown) => {
          if (error instanceof ApiError && error.code === "invalid_input" && error.message.includes("reference")) {
            return error.message;
          }
          throw error;
        },
      ),
    );
    if (!result.ok) return;
    if (result.value !== null) {
      setReferenceError(t("accounts.bad_reference", { reason: result.value }));
      return;
    }
    notify(t("accounts.payment_done"));
    setAmount("");
    setReference("");
    setReloads((n) => n + 1);
  };

  const chooseMethod = (value: string) => {
    setMethod(value === "card" ? "card" : "cash");
    setReferenceError(null);
  };

  return (
    <div class="accounts">
      <h1>{t("accounts.title")}</h1>
      <Form class="card row-form" onSubmit={open} submitLabel={t("accounts.open")} submitTestId="account-open">
        <h2>{t("accounts.open_title")}</h2>
        <TextField label={t("accounts.name")} testId="account-name" value={name} onValue={setName} />
        <TextField
          label={t("accounts.limit")}
          testId="account-limit"
          inputMode="numeric"
          value={limit}
          onValue={setLimit}
        />
      </Form>
      <section class="card">
        <Table
          columns={[
            t("common.name"),
            { num: t("accounts.limit") },
            { num: t("accounts.balance") },
            { num: t("accounts.available") },
            "",
          ]}
        >
          {accounts.map((a) => (
            <tr
              key={a.account}
              data-testid={`account-row-${a.account}`}
              data-balance-won={a.balance_won}
              class={a.account === selected ? "selected" : ""}
            >
              <td>{a.name}</td>
              <td class="num">{formatWon(a.credit_limit_won, lang)}</td>
              <td class="num">{formatWon(a.balance_won, lang)}</td>
              <td class="num">{formatWon(a.available_won, lang)}</td>
              <td>
                <button type="button" data-testid="account-show" onClick={() => setSelected(a.account)}>
                  {t("accounts.show")}
                </button>
              </td>
            </tr>
          ))}
        </Table>
      </section>
      {selected === null || detail === null ? null : (
        <section class="card" data-testid="account-detail">
          <h2>{t("accounts.movements", { name: detail.name })}</h2>
          <p>
            {t("accounts.balance")}: <strong>{formatWon(detail.balance_won, lang)}</strong> · {t("accounts.available")}:{" "}
            {formatWon(detail.available_won, lang)}
          </p>
          <Form class="row-form" onSubmit={pay} submitLabel={t("accounts.take_payment")} submitTestId="payment-take">
            <TextField
              label={t("accounts.payment_amount")}
              testId="payment-amount"
              inputMode="numeric"
              value={amount}
              onValue={setAmount}
            />
            <SelectField
              label={t("accounts.payment_method")}
              testId="payment-method"
              value={method}
              onValue={chooseMethod}
            >
              <option value="cash">{t("pay.cash")}</option>
              <option value="card">{t("pay.card")}</option>
            </SelectField>
            {method === "card" ? (
              <TextField
                label={t("pay.card_reference")}
                testId="payment-reference"
                autoComplete="off"
                maxLength={64}
                value={reference}
                onValue={(value) => {
                  setReference(value);
                  if (value.trim() !== "") setReferenceError(null);
                }}
                error={referenceError}
              />
            ) : null}
          </Form>
          <Table columns={[t("common.time"), t("accounts.kind"), t("accounts.reference"), { num: t("common.amount") }]}>
            {detail.movements.map((m, index) => (
              <tr key={`${m.at}-${index}`}>
                <td>{formatTime(m.at, timeZone)}</td>
                <td>{m.kind}</td>
                <td class="mono">{m.reference}</td>
                <td class="num">{formatWon(m.amount_won, lang)}</td>
              </tr>
            ))}
          </Table>
        </section>
      )}
    </div>
  );
}
