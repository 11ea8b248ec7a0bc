// Stock per tank (book vs capacity as a level picture, measured beside it), stock per product,
// expected deliveries and their confirmation.

import { useState } from "preact/hooks";
import { api, type Delivery, type GaugeDelivery, type Stock, type Tank } from "../api";
import { SelectField, TextField } from "../shared/components/form";
import { FormDialog } from "../shared/components/Modal";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { formatLitres, formatTime, parseLitres } from "../shared/format";
import { useLoad } from "../hooks";

const POLL_MS = 3000;

export function StockScreen() {
  const { t, live, products, timeZone } = useApp();
  const [confirming, setConfirming] = useState<Delivery | null>(null);
  const [reloads, setReloads] = useState(0);

  // Deliveries arrive from HQ without a sale; look again now and then.
  const deps = [live?.revision, reloads];
  const [stock] = useLoad<Stock | null>(() => api.stock(), null, deps, POLL_MS);
  const [deliveries] = useLoad(() => api.deliveries(), [], deps, POLL_MS);
  const [gauge] = useLoad(() => api.gaugeDeliveries().catch(() => []), [], deps, POLL_MS);

  const name = (product: string) => products.find((p) => p.product === product)?.name ?? product;
  const expected = deliveries.filter((d) => !d.confirmed);
  const confirmed = deliveries.filter((d) => d.confirmed);

  return (
    <div class="stock">
      <div class="toolbar">
        <h1>{t("stock.title")}</h1>
        <button type="button" onClick={() => setReloads((n) => n + 1)}>
          {t("common.refresh")}
        </button>
      </div>
      <section class="tank-grid">
        {(stock?.tanks ?? []).map((tank) => (
          <TankTile key={tank.tank} tank={tank} productName={name(tank.product)} />
        ))}
      </section>
      <section class="card">
        <h2>{t("stock.by_product")}</h2>
        <Table
          columns={[
            t("common.product"),
            { num: `${t("stock.book")} (L)` },
            { num: `${t("stock.expected_incoming")} (L)` },
          ]}
        >
          {(stock?.products ?? []).map((p) => (
            <tr key={p.product} data-testid={`stock-product-${p.product}`}>
              <td>{name(p.product)}</td>
              <td class="num">{formatLitres(p.book_stock_ml)}</td>
              <td class="num">{formatLitres(p.expected_incoming_ml)}</td>
            </tr>
          ))}
        </Table>
      </section>
      <section class="card">
        <h2>{t("stock.deliveries")}</h2>
        {expected.length === 0 ? <p class="muted">{t("stock.no_deliveries")}</p> : null}
        <DeliveryTable deliveries={expected} name={name} timeZone={timeZone} onConfirm={setConfirming} />
      </section>
      {confirmed.length === 0 ? null : (
        <section class="card">
          <h2>{t("stock.confirmed_deliveries")}</h2>
          <DeliveryTable deliveries={confirmed} name={name} timeZone={timeZone} onConfirm={null} />
        </section>
      )}
      {confirming === null ? null : (
        <ConfirmDialog
          delivery={confirming}
          tanks={(stock?.tanks ?? []).filter((tank) => tank.product === confirming.product)}
          gauge={gauge}
          onClose={() => setConfirming(null)}
          onConfirmed={() => {
            setConfirming(null);
            setReloads((n) => n + 1);
          }}
        />
      )}
    </div>
  );
}

function TankTile(props: { tank: Tank; productName: string }) {
  const { t } = useApp();
  const { tank } = props;
  const percent = (ml: number) =>
    tank.capacity_ml > 0 ? Math.max(0, Math.min(100, (ml / tank.capacity_ml) * 100)) : 0;
  const book = percent(tank.book_stock_ml);
  return (
    <article
      class="card tank"
      data-testid={`tank-${tank.tank}`}
      data-book-ml={tank.book_stock_ml}
      data-capacity-ml={tank.capacity_ml}
    >
      <h3>
        {t("stock.tank", { tank: tank.tank })} · {props.productName}
      </h3>
      <div class="tank-body">
        <div class="tank-picture" role="img" aria-label={`${Math.round(book)}%`}>
          <div class="tank-fill" style={{ height: `${book}%` }} />
          {tank.measured_ml === null ? null : (
            <div class="tank-measured" style={{ bottom: `${percent(tank.measured_ml)}%` }} />
          )}
          <span class="tank-percent">{Math.round(book)}%</span>
        </div>
        <dl class="facts">
          <dt>{t("stock.book")}</dt>
          <dd data-testid="tank-book">
            {formatLitres(tank.book_stock_ml)} L
            {tank.book_stock_ml < 0 ? (
              <span class="pill bad" data-testid="tank-below-zero" title={t("stock.below_zero_hint")}>
                {t("stock.below_zero")}
              </span>
            ) : null}
          </dd>
          {tank.measured_ml === null ? null : (
            <>
              <dt>{t("stock.measured")}</dt>
              <dd data-testid="tank-measured">{formatLitres(tank.measured_ml)} L</dd>
            </>
          )}
          <dt>{t("stock.capacity")}</dt>
          <dd>{formatLitres(tank.capacity_ml)} L</dd>
        </dl>
      </div>
    </article>
  );
}

function DeliveryTable(props: {
  deliveries: Delivery[];
  name: (product: string) => string;
  timeZone: string;
  onConfirm: ((delivery: Delivery) => void) | null;
}) {
  const { t } = useApp();
  const { onConfirm } = props;
  if (props.deliveries.length === 0) return null;
  return (
    <Table
      columns={[
        t("stock.shipment"),
        t("common.product"),
        t("stock.truck"),
        { num: `${t("stock.shipped_volume")} (L)` },
        onConfirm === null ? t("stock.received") : t("stock.expected_at"),
        "",
      ]}
    >
      {props.deliveries.map((d) => (
        <tr key={d.shipment} data-testid={`delivery-row-${d.shipment}`}>
          <td class="mono">{d.shipment.slice(0, 8)}</td>
          <td>{props.name(d.product)}</td>
          <td>{d.truck}</td>
          <td class="num">{formatLitres(d.volume_ml)}</td>
          <td>
            {d.confirmation === null
              ? formatTime(d.expected_at, props.timeZone)
              : `${formatLitres(d.confirmation.received_volume_ml)} L → ${t("stock.tank", { tank: d.confirmation.tank })}`}
          </td>
          <td>
            {onConfirm === null ? null : (
              <button type="button" class="primary" data-testid="delivery-confirm-open" onClick={() => onConfirm(d)}>
                {t("stock.confirm_open")}
              </button>
            )}
          </td>
        </tr>
      ))}
    </Table>
  );
}

function ConfirmDialog(props: {
  delivery: Delivery;
  tanks: Tank[];
  gauge: GaugeDelivery[];
  onClose: () => void;
  onConfirmed: () => void;
}) {
  const { t, run, notify, showProblem } = useApp();
  const { delivery } = props;
  const [tank, setTank] = useState(props.tanks[0]?.tank ?? 0);
  const [litres, setLitres] = useState(formatLitres(delivery.volume_ml).replace(/,/g, ""));
  const report = props.gauge
    .filter((g) => g.tank === tank && (g.product === null || g.product === delivery.product))
    .sort((a, b) => b.ended_at.localeCompare(a.ended_at))[0];

  const submit = async () => {
    const ml = parseLitres(litres);
    if (ml === null || ml <= 0) {
      showProblem(t("manual.bad_litres"));
      return;
    }
    const result = await run(() => api.confirmDelivery(delivery.shipment, tank, ml));
    if (result.ok) {
      notify(t("stock.confirmed", { shipment: delivery.shipment.slice(0, 8), litres: formatLitres(ml), tank }));
      props.onConfirmed();
    }
  };

  return (
    <FormDialog
      title={t("stock.confirm_open")}
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={t("stock.confirm")}
      submitTestId="delivery-confirm"
    >
      <p class="muted">
        {delivery.truck} · {formatLitres(delivery.volume_ml)} L
      </p>
      <SelectField
        label={t("stock.confirm_tank")}
        testId="delivery-tank"
        value={String(tank)}
        onValue={(value) => setTank(Number(value))}
      >
        {props.tanks.map((tk) => (
          <option key={tk.tank} value={String(tk.tank)}>
            {t("stock.tank", { tank: tk.tank })}
          </option>
        ))}
      </SelectField>
      <TextField
        label={t("stock.received")}
        testId="delivery-litres"
        inputMode="decimal"
        value={litres}
        onValue={setLitres}
      />
      {report === undefined ? null : (
        <button
          type="button"
          data-testid="delivery-prefill"
          onClick={() => setLitres(formatLitres(report.delivered_ml).replace(/,/g, ""))}
        >
          {t("stock.prefill", { litres: formatLitres(report.delivered_ml) })}
        </button>
      )}
    </FormDialog>
  );
}
