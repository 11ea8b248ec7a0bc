// Commission settlement for consignment-run stations (위탁수수료 정산), from settlement's own API:
// a period's statements per station (open ones worked out now, closed ones as stored), one
// statement's lines with its CSV and print view, the period's close, and the stations' terms.

import { useMemo, useState } from "preact/hooks";
import { Form, SelectField, TextField } from "../../shared/components/form";
import { dateInZone, formatLitres, formatTime, formatWon } from "../../shared/format";
import { ReportTable, type ReportColumn } from "../components/ReportTable";
import { useHq } from "../context";
import { useTopicData } from "../hooks";
import {
  settlement,
  settlementUrl,
  storeSettlementUrl,
  type Statement,
  type Terms,
} from "../settlementApi";

/** `CD1001=35, GS1001=40` → {CD1001: 35, GS1001: 40}; null when a part is not `grade=won`. */
export function parseRates(text: string): Record<string, number> | null {
  const rates: Record<string, number> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const match = /^([A-Za-z0-9_-]+)\s*=\s*(\d+)$/.exec(part);
    if (match === null) return null;
    rates[match[1] ?? ""] = Number(match[2]);
  }
  return rates;
}

function wholeNumber(text: string): number | null {
  const trimmed = text.trim().replace(/,/g, "");
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

export function SettlementScreen() {
  const { t, lang, timeZone, me, run, notify, showProblem } = useHq();
  const admin = me.role === "administrator";
  const thisMonth = dateInZone("Asia/Seoul").slice(0, 7);
  const [url, setUrl] = useState(settlementUrl());
  const [period, setPeriod] = useState(thisMonth);
  const [selected, setSelected] = useState<string | null>(null);
  const [beforeEnd, setBeforeEnd] = useState(false);
  const [reloads, setReloads] = useState(0);

  const { data: status } = useTopicData(() => settlement.status(), ["sales"], [url, reloads]);
  const { data: periods } = useTopicData(() => settlement.periods(), ["sales"], [url, reloads]);
  const { data: statements } = useTopicData(() => settlement.statements(period), ["sales"], [url, period, reloads]);
  const { data: terms } = useTopicData(() => settlement.terms(), [], [url, reloads]);
  const { data: stations } = useTopicData(() => settlement.stations(), [], [url, reloads]);

  const periodChoices = useMemo(() => {
    const names = new Set((periods ?? []).map((p) => p.period));
    names.add(thisMonth);
    return [...names].sort().reverse();
  }, [periods, thisMonth]);
  const periodState = periods?.find((p) => p.period === period);
  const closed = periodState?.status === "closed";
  const statement = statements?.find((s) => s.station === selected) ?? null;

  const columns = useMemo(
    (): ReportColumn<Statement>[] => [
      {
        header: t("settlement.station"),
        cell: (s) => (
          <button type="button" class="link" data-testid={`statement-open-${s.station}`} onClick={() => setSelected(s.station)}>
            {s.station} {s.station_name}
          </button>
        ),
        csv: (s) => s.station,
      },
      {
        header: t("settlement.status"),
        cell: (s) => <span class={`pill settlement-${s.status}`}>{t(`settlement.status.${s.status}`)}</span>,
        csv: (s) => s.status,
      },
      {
        header: t("settlement.litres"),
        num: true,
        cell: (s) => formatLitres(s.fuel.reduce((sum, l) => sum + l.volume_ml, 0)),
        csv: (s) => s.fuel.reduce((sum, l) => sum + l.volume_ml, 0),
      },
      {
        header: t("settlement.shop_sales"),
        num: true,
        cell: (s) => formatWon(s.shop.reduce((sum, l) => sum + l.amount_won, 0), lang),
        csv: (s) => s.shop.reduce((sum, l) => sum + l.amount_won, 0),
      },
      { header: t("settlement.commission"), num: true, cell: (s) => formatWon(s.commission_won, lang), csv: (s) => s.commission_won },
      { header: t("settlement.fee"), num: true, cell: (s) => formatWon(s.fee_won, lang), csv: (s) => s.fee_won },
      { header: t("settlement.deductions"), num: true, cell: (s) => formatWon(s.deductions_won, lang), csv: (s) => s.deductions_won },
      { header: t("settlement.adjustments"), num: true, cell: (s) => formatWon(s.adjustments_won, lang), csv: (s) => s.adjustments_won },
      {
        header: t("settlement.total"),
        num: true,
        cell: (s) => <strong>{formatWon(s.total_owed_won, lang)}</strong>,
        csv: (s) => s.total_owed_won,
      },
    ],
    [t, lang],
  );

  const termsColumns = useMemo(
    (): ReportColumn<Terms>[] => [
      { header: t("settlement.station"), cell: (x) => x.station, csv: (x) => x.station },
      { header: t("settlement.version"), num: true, cell: (x) => x.version, csv: (x) => x.version },
      { header: t("settlement.effective_from"), cell: (x) => x.effective_from, csv: (x) => x.effective_from },
      {
        header: t("settlement.fuel_rates"),
        cell: (x) =>
          Object.entries(x.fuel_rates)
            .map(([grade, won]) => `${grade} ${won}`)
            .join(", "),
        csv: (x) => JSON.stringify(x.fuel_rates),
      },
      {
        header: t("settlement.shop_rate"),
        num: true,
        cell: (x) => `${(x.shop_rate_basis_points / 100).toFixed(2)}%`,
        csv: (x) => x.shop_rate_basis_points,
      },
      { header: t("settlement.fee"), num: true, cell: (x) => formatWon(x.monthly_fee_won, lang), csv: (x) => x.monthly_fee_won },
      {
        header: t("settlement.loss_cost"),
        num: true,
        cell: (x) => formatWon(x.loss_cost_won_per_litre, lang),
        csv: (x) => x.loss_cost_won_per_litre,
      },
    ],
    [t, lang],
  );

  return (
    <div class="settlement">
      <h1>{t("settlement.title")}</h1>
      <Form
        class="card row-form"
        onSubmit={() => {
          storeSettlementUrl(url);
          setReloads((n) => n + 1);
        }}
        submitLabel={t("settlement.connect")}
        submitTestId="settlement-url-save"
      >
        <TextField label={t("settlement.url")} testId="settlement-url" value={url} onValue={setUrl} />
        <span class="muted small" data-testid="settlement-status" data-position={status?.position ?? ""}>
          {status === null ? t("common.loading") : t("settlement.position", { position: status.position, head: status.head })}
        </span>
      </Form>

      <section class="card">
        <div class="row-form">
          <SelectField label={t("settlement.period")} testId="settlement-period" value={period} onValue={setPeriod}>
            {periodChoices.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </SelectField>
          <span data-testid="settlement-period-state" data-state={closed ? "closed" : "open"}>
            {periodState?.status === "closed"
              ? t("settlement.closed_at", {
                  at: formatTime(periodState.closed_at, timeZone),
                  by: periodState.closed_by ?? "",
                })
              : t("settlement.status.open")}
          </span>
          {admin && !closed ? (
            <>
              <label class="switch">
                <input
                  type="checkbox"
                  data-testid="settlement-before-end"
                  checked={beforeEnd}
                  onChange={(e) => setBeforeEnd(e.currentTarget.checked)}
                />
                {t("settlement.before_end")}
              </label>
              <button
                type="button"
                class="danger"
                data-testid="settlement-close"
                onClick={() =>
                  void run(() => settlement.close(period, beforeEnd)).then((result) => {
                    if (!result.ok) return;
                    notify(t("settlement.closed_notice", { period }));
                    setReloads((n) => n + 1);
                  })
                }
              >
                {t("settlement.close")}
              </button>
            </>
          ) : null}
        </div>
        {statements === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <ReportTable
            testId="statements-table"
            exportName={`statements-${period}`}
            columns={columns}
            rows={statements}
            rowKey={(s) => s.station}
            row={(s) => ({
              testId: `statement-row-${s.station}`,
              "data-status": s.status,
              "data-total-won": String(s.total_owed_won),
            })}
            windowed={false}
          />
        )}
      </section>

      {statement === null ? null : <StatementDetail statement={statement} />}

      <section class="card">
        <h2>{t("settlement.terms")}</h2>
        {terms === null ? null : (
          <ReportTable
            testId="terms-table"
            exportName="settlement-terms"
            columns={termsColumns}
            rows={terms}
            rowKey={(x) => `${x.station}-${x.version}`}
            row={(x) => ({ testId: `terms-row-${x.station}-${x.version}` })}
            windowed={false}
          />
        )}
        {admin && stations !== null ? (
          <TermsForm
            stations={stations.map((s) => s.station)}
            onAdd={(next) =>
              void run(() => settlement.addTerms(next)).then((result) => {
                if (result.ok) setReloads((n) => n + 1);
              })
            }
            onInvalid={showProblem}
          />
        ) : null}
      </section>
    </div>
  );
}

function StatementDetail(props: { statement: Statement }) {
  const { t, lang } = useHq();
  const s = props.statement;
  const line = (testId: string, label: string, detail: string, amount: number) => (
    <tr key={testId} data-testid={testId} data-won={String(amount)}>
      <td>{label}</td>
      <td>{detail}</td>
      <td class="num">{formatWon(amount, lang)}</td>
    </tr>
  );
  return (
    <section class="card" data-testid="statement-detail" data-station={s.station} data-status={s.status}>
      <h2>
        {t("settlement.statement")} · {s.station} {s.station_name} · {s.first_day} – {s.last_day}
      </h2>
      <p>
        <a data-testid="statement-csv" href={settlement.csvLink(s.station, s.period)}>
          {t("settlement.csv")}
        </a>{" "}
        ·{" "}
        <a data-testid="statement-print" href={settlement.printLink(s.station, s.period)} target="_blank" rel="noreferrer">
          {t("settlement.print")}
        </a>
      </p>
      <table class="report">
        <tbody>
          {s.fuel.map((l) =>
            line(
              `line-fuel-${l.product}-${l.terms_version ?? 0}`,
              `${t("settlement.line.fuel")} ${l.product}`,
              `${formatLitres(l.volume_ml)} L × ${l.rate_won_per_litre} · ${formatWon(l.amount_won, lang)}`,
              l.commission_won,
            ),
          )}
          {s.shop.map((l) =>
            line(
              `line-shop-${l.terms_version ?? 0}`,
              t("settlement.line.shop"),
              `${formatWon(l.amount_won, lang)} × ${(l.rate_basis_points / 100).toFixed(2)}%`,
              l.commission_won,
            ),
          )}
          {s.fee === null ? null : line("line-fee", t("settlement.line.fee"), "", s.fee.amount_won)}
          {s.deductions.map((l) =>
            line(
              `line-deduction-${l.product}-${l.terms_version ?? 0}`,
              `${t("settlement.line.deduction")} ${l.product}`,
              `${formatLitres(l.beyond_ml)} L × ${l.cost_won_per_litre}`,
              l.amount_won,
            ),
          )}
          {s.adjustments.map((l) =>
            line(
              `line-adjustment-${l.business_day}-${l.kind}-${l.product ?? ""}`,
              `${t("settlement.line.adjustment")} (${l.business_day}) ${t(`settlement.kind.${l.kind}`)} ${l.product ?? ""}`,
              l.kind === "shop" ? formatWon(l.amount_won, lang) : `${formatLitres(l.volume_ml)} L`,
              l.commission_won,
            ),
          )}
        </tbody>
        <tfoot>{line("line-total", t("settlement.total"), "", s.total_owed_won)}</tfoot>
      </table>
      {s.days_without_terms.length > 0 ? (
        <p class="muted" data-testid="statement-days-without-terms">
          {t("settlement.days_without_terms", { days: s.days_without_terms.join(", ") })}
        </p>
      ) : null}
    </section>
  );
}

function TermsForm(props: {
  stations: string[];
  onAdd: (terms: Omit<Terms, "version" | "created_by">) => void;
  onInvalid: (message: string) => void;
}) {
  const { t } = useHq();
  const [station, setStation] = useState(props.stations[0] ?? "");
  const [from, setFrom] = useState(`${dateInZone("Asia/Seoul").slice(0, 7)}-01`);
  const [rates, setRates] = useState("CD1001=35");
  const [shopBp, setShopBp] = useState("500");
  const [fee, setFee] = useState("300000");
  const [lossCost, setLossCost] = useState("1000");
  return (
    <Form
      class="row-form"
      onSubmit={() => {
        const fuelRates = parseRates(rates);
        const [shop, monthly, loss] = [wholeNumber(shopBp), wholeNumber(fee), wholeNumber(lossCost)];
        if (fuelRates === null || shop === null || monthly === null || loss === null || station === "") {
          props.onInvalid(t("settlement.terms_invalid"));
          return;
        }
        props.onAdd({
          station,
          effective_from: from,
          fuel_rates: fuelRates,
          shop_rate_basis_points: shop,
          monthly_fee_won: monthly,
          loss_cost_won_per_litre: loss,
        });
      }}
      submitLabel={t("settlement.add_terms")}
      submitTestId="terms-add"
    >
      <SelectField label={t("settlement.station")} testId="terms-station" value={station} onValue={setStation}>
        {props.stations.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </SelectField>
      <TextField label={t("settlement.effective_from")} testId="terms-from" type="date" value={from} onValue={setFrom} />
      <TextField label={t("settlement.fuel_rates")} testId="terms-rates" value={rates} onValue={setRates} />
      <TextField label={t("settlement.shop_rate_bp")} testId="terms-shop" inputMode="numeric" value={shopBp} onValue={setShopBp} />
      <TextField label={t("settlement.fee")} testId="terms-fee" inputMode="numeric" value={fee} onValue={setFee} />
      <TextField label={t("settlement.loss_cost")} testId="terms-loss" inputMode="numeric" value={lossCost} onValue={setLossCost} />
    </Form>
  );
}
