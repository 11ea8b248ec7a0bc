// The cashier's main screen: shift, pump tiles with live state, authorizing, paying fuelings,
// manual fuel entry, and the receipt preview after each sale.

import { useEffect, useState } from "preact/hooks";
import { api, type Fueling, type Pump, type PresetRequest, type Sale } from "../api";
import { ChoiceButton, SelectField, TextField } from "../shared/components/form";
import { FormDialog } from "../shared/components/Modal";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { amountForVolume, formatLitres, formatWon, parseLitres, parseWon } from "../shared/format";
import { useLoad } from "../hooks";
import type { TextKey } from "../i18n";
import { PaymentPanel, type PaymentTarget } from "./Payment";
import { ReceiptView } from "./Receipt";
import { ShiftPanel } from "./Shift";

export function Forecourt() {
  const { t, lang, live, run } = useApp();
  const [fallbackPumps, setFallbackPumps] = useState<Pump[]>([]);
  const [authorizing, setAuthorizing] = useState<Pump | null>(null);
  const [manual, setManual] = useState(false);
  const [paying, setPaying] = useState<PaymentTarget | null>(null);
  const [receipt, setReceipt] = useState<Sale | null>(null);

  const pumps = live?.pumps ?? fallbackPumps;
  const liveMissing = live === null;
  useEffect(() => {
    if (liveMissing) api.pumps().then(setFallbackPumps, () => undefined);
  }, [liveMissing]);

  const [fuelings, setFuelings] = useLoad(() => api.fuelings(), [], [live?.revision]);

  const payFueling = (fueling: Fueling) => {
    setPaying({
      title: t("pump.title", { pump: fueling.pump }),
      description: `${fueling.product_name} · ${formatLitres(fueling.volume_ml)} L × ${formatWon(fueling.unit_price_won, lang)}`,
      total_won: fueling.amount_won,
      settle: (payment, overLimit) => api.settleFueling(fueling.fueling, payment, overLimit),
    });
  };

  const payPump = async (pump: Pump) => {
    const id = pump.unpaid[0];
    if (id === undefined) return;
    let fueling = fuelings.find((f) => f.fueling === id);
    if (fueling === undefined) {
      const result = await run(() => api.fuelings());
      if (!result.ok) return;
      setFuelings(result.value);
      fueling = result.value.find((f) => f.fueling === id);
    }
    if (fueling !== undefined) payFueling(fueling);
  };

  const [stopping, setStopping] = useState<Pump | null>(null);
  const stop = async (pump: Pump) => {
    const result = await run(() => api.stop(pump.pump));
    if (result.ok) setStopping(null);
  };

  return (
    <div class="forecourt">
      <ShiftPanel />
      <div class="toolbar">
        <button type="button" class="big" data-testid="manual-fuel" onClick={() => setManual(true)}>
          {t("manual.open")}
        </button>
      </div>
      <section class="pump-grid">
        {pumps.length === 0 ? <p class="muted">{t("pump.no_pumps")}</p> : null}
        {pumps.map((pump) => (
          <PumpTile
            key={pump.pump}
            pump={pump}
            onAuthorize={() => setAuthorizing(pump)}
            onStop={() => setStopping(pump)}
            onPay={() => void payPump(pump)}
          />
        ))}
      </section>
      {fuelings.length === 0 ? null : (
        <section class="card">
          <h2>{t("unpaid.title")}</h2>
          <Table>
            {fuelings.map((f) => (
              <tr key={f.fueling} data-testid={`fueling-${f.fueling}`}>
                <td>{t("pump.title", { pump: f.pump })}</td>
                <td>{f.product_name}</td>
                <td class="num">{formatLitres(f.volume_ml)} L</td>
                <td class="num">{formatWon(f.amount_won, lang)}</td>
                <td>
                  <button type="button" class="primary" onClick={() => payFueling(f)}>
                    {t("pump.pay")}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        </section>
      )}
      {authorizing === null ? null : (
        <AuthorizeDialog pump={authorizing} onClose={() => setAuthorizing(null)} />
      )}
      {stopping === null ? null : (
        <FormDialog
          title={t("pump.stop_title", { pump: stopping.pump })}
          onClose={() => setStopping(null)}
          onSubmit={() => stop(stopping)}
          submitLabel={t("pump.stop_confirm")}
          submitTestId="pump-stop-confirm"
          danger
        >
          <p>{t("pump.stop_hint")}</p>
        </FormDialog>
      )}
      {manual ? (
        <ManualFuelDialog
          onClose={() => setManual(false)}
          onNext={(target) => {
            setManual(false);
            setPaying(target);
          }}
        />
      ) : null}
      {paying === null ? null : (
        <PaymentPanel
          target={paying}
          onClose={() => setPaying(null)}
          onSettled={(sale) => {
            setPaying(null);
            setReceipt(sale);
          }}
        />
      )}
      {receipt === null ? null : <ReceiptView sale={receipt} onClose={() => setReceipt(null)} />}
    </div>
  );
}

function PumpTile(props: { pump: Pump; onAuthorize: () => void; onStop: () => void; onPay: () => void }) {
  const { t, lang } = useApp();
  const { pump } = props;
  const preset = pump.preset;
  const running = pump.state === "authorized" || pump.state === "fueling";
  return (
    <article class={`pump state-${pump.state}`} data-testid={`pump-${pump.pump}`} data-state={pump.state}>
      <header>
        <strong>{t("pump.title", { pump: pump.pump })}</strong>
        <span class="pump-state">{t(`pump.state.${pump.state}` as TextKey)}</span>
      </header>
      <div class="pump-product">
        {pump.product_name ?? "—"}
        {pump.unit_price_won === null ? "" : ` · ${formatWon(pump.unit_price_won, lang)}/L`}
      </div>
      <div class="pump-volume" data-testid="pump-volume" data-ml={pump.volume_ml}>
        {formatLitres(pump.volume_ml)} L
      </div>
      <div class="pump-amount" data-testid="pump-amount" data-won={pump.amount_won}>
        {formatWon(pump.amount_won, lang)}
      </div>
      <div class="pump-meta">
        {preset === null
          ? ""
          : "amount" in preset
            ? `${t("pump.preset")}: ${formatWon(preset.amount.amount_won, lang)}`
            : `${t("pump.preset")}: ${formatLitres(preset.volume.volume_ml)} L`}
        {pump.unpaid.length > 0 ? <span class="badge">{t("pump.unpaid", { count: pump.unpaid.length })}</span> : null}
      </div>
      <div class="pump-actions">
        {running ? (
          <button
            type="button"
            data-testid="pump-stop"
            aria-label={t("pump.stop_pump", { pump: pump.pump })}
            onClick={props.onStop}
          >
            {t("pump.stop")}
          </button>
        ) : (
          <button
            type="button"
            data-testid="pump-authorize"
            aria-label={t("pump.authorize_pump", { pump: pump.pump })}
            disabled={pump.state === "offline"}
            onClick={props.onAuthorize}
          >
            {t("pump.authorize")}
          </button>
        )}
        {pump.unpaid.length > 0 ? (
          <button type="button" class="primary" data-testid="pump-pay" onClick={props.onPay}>
            {t("pump.pay")}
          </button>
        ) : null}
      </div>
    </article>
  );
}

const PRESET_MODES = ["none", "amount", "volume"] as const;
type PresetMode = (typeof PRESET_MODES)[number];
const QUICK_AMOUNTS = [10_000, 30_000, 50_000];

function AuthorizeDialog(props: { pump: Pump; onClose: () => void }) {
  const { t, lang, run, showProblem } = useApp();
  const [mode, setMode] = useState<PresetMode>("none");
  const [value, setValue] = useState("");

  const submit = async () => {
    let preset: PresetRequest = null;
    if (mode === "amount") {
      const won = parseWon(value);
      if (won === null) {
        showProblem(t("preset.bad_amount"));
        return;
      }
      preset = { amount_won: won };
    } else if (mode === "volume") {
      const ml = parseLitres(value);
      if (ml === null) {
        showProblem(t("manual.bad_litres"));
        return;
      }
      preset = { volume_ml: ml };
    }
    const result = await run(() => api.authorize(props.pump.pump, preset));
    if (result.ok) props.onClose();
  };

  return (
    <FormDialog
      title={t("preset.title", { pump: props.pump.pump })}
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={t("preset.confirm")}
      submitTestId="authorize-confirm"
    >
      <div class="choices">
        {PRESET_MODES.map((name) => (
          <ChoiceButton
            key={name}
            testId={`preset-${name}`}
            active={mode === name}
            onClick={() => {
              setMode(name);
              setValue("");
            }}
          >
            {t(`preset.${name}`)}
          </ChoiceButton>
        ))}
      </div>
      {mode === "none" ? null : (
        <>
          <TextField
            label={t(mode === "amount" ? "preset.amount" : "preset.volume")}
            testId="preset-value"
            inputMode="decimal"
            autoFocus
            value={value}
            onValue={setValue}
          />
          {mode === "amount" ? (
            <div class="choices">
              {QUICK_AMOUNTS.map((won) => (
                <button type="button" key={won} class="chip" onClick={() => setValue(String(won))}>
                  {formatWon(won, lang)}
                </button>
              ))}
            </div>
          ) : null}
        </>
      )}
    </FormDialog>
  );
}

function ManualFuelDialog(props: { onClose: () => void; onNext: (target: PaymentTarget) => void }) {
  const { t, lang, products, showProblem } = useApp();
  const fuels = products.filter((p) => p.unit === "litre");
  const [product, setProduct] = useState(fuels[0]?.product ?? "");
  const [litres, setLitres] = useState("");
  const chosen = fuels.find((p) => p.product === product) ?? fuels[0];
  const ml = parseLitres(litres);
  const estimate = chosen === undefined || ml === null ? 0 : amountForVolume(ml, chosen.unit_price_won);

  const next = () => {
    if (chosen === undefined) {
      showProblem(t("error.no_price_in_force"));
      return;
    }
    if (ml === null || ml <= 0) {
      showProblem(t("manual.bad_litres"));
      return;
    }
    const line = { product: chosen.product, volume_ml: ml };
    props.onNext({
      title: t("manual.title"),
      description: `${chosen.name} · ${formatLitres(ml)} L × ${formatWon(chosen.unit_price_won, lang)}`,
      total_won: estimate,
      settle: (payment, overLimit) => api.settleSale([line], payment, overLimit),
    });
  };

  return (
    <FormDialog
      title={t("manual.title")}
      onClose={props.onClose}
      onSubmit={next}
      submitLabel={t("manual.next")}
      submitTestId="manual-next"
    >
      <SelectField
        label={t("manual.product")}
        testId="manual-product"
        value={chosen?.product ?? ""}
        onValue={setProduct}
      >
        {fuels.map((p) => (
          <option key={p.product} value={p.product}>
            {p.name} ({p.product}) · {formatWon(p.unit_price_won, lang)}/L
          </option>
        ))}
      </SelectField>
      <TextField
        label={t("manual.litres")}
        testId="manual-litres"
        inputMode="decimal"
        value={litres}
        onValue={setLitres}
      />
      <p>
        {t("manual.estimate")}: <strong data-testid="manual-amount" data-won={estimate}>{formatWon(estimate, lang)}</strong>
      </p>
    </FormDialog>
  );
}
