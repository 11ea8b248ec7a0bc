// The payment panel: cash (tendered, change), card (approval reference) or a credit account.
// A sale past the station's limits (a tender or litres keyed by hand) is refused by the station
// with the limit named; the panel then asks for a manager's confirmation (their id and PIN at a
// cashier's session) and settles it with that, or the cashier corrects the figure.

import { useEffect, useState } from "preact/hooks";
import { api, type Account, type Approver, type PaymentRequest, type Sale } from "../api";
import { AmountLine } from "../components/AmountLine";
import { ManagerFields } from "../components/ManagerFields";
import { ChoiceButton, SelectField, TextField } from "../shared/components/form";
import { FormDialog } from "../shared/components/Modal";
import { useApp } from "../context";
import { formatWon, groupDigits, parseWon } from "../shared/format";
import { useBusy } from "../shared/hooks";

/** What is being paid: its total as shown before settling, and the call that settles it
 * (with a manager's confirmation past the station's limits, when it takes one). */
export interface PaymentTarget {
  title: string;
  description: string;
  total_won: number;
  settle: (payment: PaymentRequest, overLimit?: Approver) => Promise<Sale>;
}

/** The refusals a manager's confirmation can lift. */
const CONFIRMABLE = ["tender_over_limit", "volume_over_limit"];

type Method = PaymentRequest["method"];
const METHODS: readonly Method[] = ["cash", "card", "account"];

const QUICK_TENDERS = [10_000, 50_000, 100_000];

export function PaymentPanel(props: {
  target: PaymentTarget;
  onSettled: (sale: Sale) => void;
  onClose: () => void;
}) {
  const { t, lang, run, showProblem, session } = useApp();
  const { target } = props;
  const [confirming, setConfirming] = useState(false);
  const [manager, setManager] = useState("");
  const [managerPin, setManagerPin] = useState("");
  const byCashier = session.role !== "manager";
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
    const approver: Approver | undefined = !confirming
      ? undefined
      : byCashier
        ? { manager: manager.trim(), manager_pin: managerPin }
        : {};
    await whileBusy(async () => {
      const result = await run(() => target.settle(request, approver));
      if (result.ok) props.onSettled(result.value);
      else {
        setManagerPin("");
        if (CONFIRMABLE.includes(result.code)) setConfirming(true);
      }
    });
  };
  /** A figure changed: the confirmation asked for was about the old one. */
  const edited = (set: (value: string) => void) => (value: string) => {
    setConfirming(false);
    set(value);
  };

  return (
    <FormDialog
      title={`${t("pay.title")} · ${target.title}`}
      onClose={props.onClose}
      testId="payment"
      onSubmit={settle}
      submitLabel={confirming ? t("pay.settle_confirmed") : t("pay.settle")}
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
            onValue={edited(setTendered)}
          />
          <div class="choices">
            <button type="button" class="chip" onClick={() => edited(setTendered)(String(target.total_won))}>
              {t("pay.exact")}
            </button>
            {QUICK_TENDERS.map((won) => (
              <button type="button" key={won} class="chip" onClick={() => edited(setTendered)(String(won))}>
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
      {confirming ? (
        <div class="card warn-box" data-testid="over-limit" role="group" aria-label={t("pay.over_limit")}>
          <p>{byCashier ? t("pay.over_limit_cashier") : t("pay.over_limit_manager")}</p>
          {byCashier ? (
            <ManagerFields
              testIds={{ manager: "over-limit-manager", pin: "over-limit-pin" }}
              manager={manager}
              onManager={setManager}
              pin={managerPin}
              onPin={setManagerPin}
            />
          ) : null}
        </div>
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
