// The payment panel: cash (tendered, change), card (approval reference) or a credit account.

import { useEffect, useState } from "preact/hooks";
import { api, type Account, type PaymentRequest, type Sale } from "../api";
import { AmountLine } from "../components/AmountLine";
import { ChoiceButton, SelectField, TextField } from "../shared/components/form";
import { FormDialog } from "../shared/components/Modal";
import { useApp } from "../context";
import { formatWon, groupDigits, parseWon } from "../shared/format";
import { useBusy } from "../shared/hooks";

/** What is being paid: its total as shown before settling, and the call that settles it. */
export interface PaymentTarget {
  title: string;
  description: string;
  total_won: number;
  settle: (payment: PaymentRequest) => Promise<Sale>;
}

type Method = PaymentRequest["method"];
const METHODS: readonly Method[] = ["cash", "card", "account"];

const QUICK_TENDERS = [10_000, 50_000, 100_000];

export function PaymentPanel(props: {
  target: PaymentTarget;
  onSettled: (sale: Sale) => void;
  onClose: () => void;
}) {
  const { t, lang, run, showProblem } = useApp();
  const { target } = props;
  const [method, setMethod] = useState<Method>("cash");
  const [tendered, setTendered] = useState("");
  const [reference, setReference] = useState("");
  const [account, setAccount] = useState("");
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const [busy, whileBusy] = useBusy();

  useEffect(() => {
    if (method !== "account" || accounts !== null) return;
    void run(() => api.accounts()).then((result) => setAccounts(result.ok ? result.value : []));
  }, [method, accounts, run]);

  const tenderedWon = tendered.trim() === "" ? target.total_won : parseWon(tendered);
  const change = tenderedWon === null ? 0 : Math.max(0, tenderedWon - target.total_won);

  const payment = (): PaymentRequest | null => {
    switch (method) {
      case "cash":
        if (tenderedWon === null) {
          showProblem(t("pay.bad_tendered"));
          return null;
        }
        return { method, tendered_won: tenderedWon };
      case "card":
        if (reference.trim() === "") {
          showProblem(t("pay.need_reference"));
          return null;
        }
        return { method, reference: reference.trim() };
      case "account":
        if (account === "") {
          showProblem(t("pay.need_account"));
          return null;
        }
        return { method, account };
    }
  };

  const settle = async () => {
    const request = payment();
    if (request === null) return;
    await whileBusy(async () => {
      const result = await run(() => target.settle(request));
      if (result.ok) props.onSettled(result.value);
    });
  };

  return (
    <FormDialog
      title={`${t("pay.title")} · ${target.title}`}
      onClose={props.onClose}
      testId="payment"
      onSubmit={settle}
      submitLabel={t("pay.settle")}
      submitTestId="settle"
      busy={busy}
    >
      <p class="muted">{target.description}</p>
      <AmountLine class="pay-total" label={t("pay.total")} won={target.total_won} testId="pay-total" />
      <div class="choices">
        {METHODS.map((name) => (
          <ChoiceButton key={name} testId={`pay-${name}`} active={method === name} onClick={() => setMethod(name)}>
            {t(`pay.${name}`)}
          </ChoiceButton>
        ))}
      </div>
      {method === "cash" ? (
        <>
          <TextField
            label={t("pay.tendered")}
            testId="tendered"
            inputMode="numeric"
            autoFocus
            placeholder={groupDigits(target.total_won)}
            value={tendered}
            onValue={setTendered}
          />
          <div class="choices">
            <button type="button" class="chip" onClick={() => setTendered(String(target.total_won))}>
              {t("pay.exact")}
            </button>
            {QUICK_TENDERS.map((won) => (
              <button type="button" key={won} class="chip" onClick={() => setTendered(String(won))}>
                {formatWon(won, lang)}
              </button>
            ))}
          </div>
          <AmountLine class="pay-change" label={t("pay.change")} won={change} testId="change" />
        </>
      ) : null}
      {method === "card" ? (
        <TextField
          label={t("pay.card_reference")}
          testId="card-reference"
          autoFocus
          value={reference}
          onValue={setReference}
        />
      ) : null}
      {method === "account" ? (
        <SelectField label={t("pay.account_select")} testId="account-select" value={account} onValue={setAccount}>
          <option value="">{t("pay.account_choose")}</option>
          {(accounts ?? []).map((a) => (
            <option key={a.account} value={a.account}>
              {a.name} · {t("pay.available", { amount: formatWon(a.available_won, lang) })}
            </option>
          ))}
        </SelectField>
      ) : null}
    </FormDialog>
  );
}
