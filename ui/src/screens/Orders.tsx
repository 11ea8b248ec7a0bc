// Fuel orders: place one (product, litres, wanted date) and follow each through
// ordered → shipped → delivered.

import { useState } from "preact/hooks";
import { api, type Delivery, type Order } from "../api";
import { Form, SelectField, TextField } from "../shared/components/form";
import { FormDialog } from "../shared/components/Modal";
import { useApp } from "../context";
import { dateInZone, formatLitres, formatTime, parseLitres } from "../shared/format";
import { useLoad } from "../hooks";
import type { TextKey } from "../i18n";

const POLL_MS = 3000;

export function Orders() {
  const { t, products, timeZone, run, notify, showProblem } = useApp();
  const fuels = products.filter((p) => p.unit === "litre");
  const [product, setProduct] = useState("");
  const [litres, setLitres] = useState("");
  const [wanted, setWanted] = useState(() => dateInZone(timeZone, 1));
  const [canceling, setCanceling] = useState<Order | null>(null);
  const [reloads, setReloads] = useState(0);
  const [orders, setOrders] = useLoad(() => api.orders(), [], [reloads], POLL_MS);
  const [deliveries] = useLoad(() => api.deliveries(), [], [reloads], POLL_MS);
  const chosen = product === "" ? (fuels[0]?.product ?? "") : product;

  const place = async () => {
    const ml = parseLitres(litres);
    if (ml === null || ml <= 0) {
      showProblem(t("manual.bad_litres"));
      return;
    }
    const result = await run(() => api.placeOrder(chosen, ml, wanted));
    if (result.ok) {
      notify(t("orders.placed_done"));
      setLitres("");
      setOrders((current) => [result.value, ...current.filter((o) => o.order !== result.value.order)]);
      setReloads((n) => n + 1);
    }
  };

  const name = (id: string) => products.find((p) => p.product === id)?.name ?? id;
  const sorted = [...orders].sort((a, b) => b.ordered_at.localeCompare(a.ordered_at));

  return (
    <div class="orders">
      <h1>{t("orders.title")}</h1>
      <Form class="card row-form" onSubmit={place} submitLabel={t("orders.place")} submitTestId="order-place">
        <h2>{t("orders.place_title")}</h2>
        <SelectField label={t("orders.product")} testId="order-product" value={chosen} onValue={setProduct}>
          {fuels.map((p) => (
            <option key={p.product} value={p.product}>
              {p.name} ({p.product})
            </option>
          ))}
        </SelectField>
        <TextField
          label={t("orders.litres")}
          testId="order-litres"
          inputMode="decimal"
          value={litres}
          onValue={setLitres}
        />
        <TextField label={t("orders.date")} testId="order-date" type="date" value={wanted} onValue={setWanted} />
      </Form>
      <section class="order-list">
        {sorted.length === 0 ? <p class="muted">{t("common.empty")}</p> : null}
        {sorted.map((order) => (
          <article class="card order" key={order.order} data-testid={`order-row-${order.order}`} data-status={order.status}>
            <header>
              <strong>{name(order.product)}</strong>
              <span>{formatLitres(order.ordered_volume_ml)} L</span>
              <span class="muted">
                {t("orders.date")}: {order.wanted_date}
              </span>
              <span class={`badge status-${order.status}`}>{t(`orders.status.${order.status}` as TextKey)}</span>
              <span class="muted mono">{order.order.slice(0, 8)}</span>
            </header>
            <Timeline
              order={order}
              deliveries={deliveries.filter((d) => d.order === order.order)}
              timeZone={timeZone}
            />
            {order.status === "ordered" || order.status === "placed" ? (
              <button type="button" class="danger" data-testid="order-cancel" onClick={() => setCanceling(order)}>
                {t("orders.cancel")}
              </button>
            ) : null}
          </article>
        ))}
      </section>
      {canceling === null ? null : (
        <CancelOrderDialog
          order={canceling}
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

function Timeline(props: { order: Order; deliveries: Delivery[]; timeZone: string }) {
  const { t } = useApp();
  const { order, deliveries, timeZone } = props;
  const open = order.status === "ordered" || order.status === "placed";
  const shipped = !open || deliveries.length > 0;
  const confirmations = deliveries.flatMap((d) => (d.confirmation === null ? [] : [d.confirmation]));
  const deliveredAt = confirmations.map((c) => c.confirmed_at).sort().at(-1) ?? null;
  const delivered = order.status === "delivered" || order.status === "partially_delivered";
  const closed = order.status === "canceled" || order.status === "rejected";
  const shippedAt =
    deliveries.map((d) => d.expected_at).filter((at): at is string => at !== null).sort()[0] ??
    (order.status === "shipped" ? order.updated_at : null);

  const steps: { key: string; label: string; done: boolean; at: string | null; detail: string }[] = [
    { key: "ordered", label: t("orders.status.ordered"), done: true, at: order.ordered_at, detail: `${formatLitres(order.ordered_volume_ml)} L` },
  ];
  if (closed) {
    steps.push({
      key: order.status,
      label: t(`orders.status.${order.status}` as TextKey),
      done: true,
      at: order.updated_at,
      detail: order.status_reason ?? "",
    });
  } else {
    steps.push({
      key: "shipped",
      label: t("orders.status.shipped"),
      done: shipped,
      at: shipped ? shippedAt : null,
      detail: order.shipped_volume_ml > 0 ? `${formatLitres(order.shipped_volume_ml)} L` : "",
    });
    steps.push({
      key: "delivered",
      label: t(`orders.status.${order.status === "partially_delivered" ? "partially_delivered" : "delivered"}`),
      done: delivered,
      at: delivered ? (deliveredAt ?? order.updated_at) : null,
      detail: order.received_volume_ml > 0 ? `${formatLitres(order.received_volume_ml)} L` : "",
    });
  }

  return (
    <ol class="timeline">
      {steps.map((step) => (
        <li key={step.key} class={step.done ? "done" : ""} data-step={step.key}>
          <span class="dot" />
          <strong>{step.label}</strong>
          <span class="muted small">{formatTime(step.at, timeZone)}</span>
          <span class="small">{step.detail}</span>
        </li>
      ))}
    </ol>
  );
}

function CancelOrderDialog(props: { order: Order; onClose: () => void; onCanceled: () => void }) {
  const { t, run, showProblem } = useApp();
  const [reason, setReason] = useState("");
  const submit = async () => {
    if (reason.trim() === "") {
      showProblem(t("cancel.need_reason"));
      return;
    }
    const result = await run(() => api.cancelOrder(props.order.order, reason.trim()));
    if (result.ok) props.onCanceled();
  };
  return (
    <FormDialog
      title={t("orders.cancel")}
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={t("orders.cancel")}
      submitTestId="order-cancel-confirm"
      danger
    >
      <TextField label={t("orders.cancel_reason")} testId="order-cancel-reason" value={reason} onValue={setReason} />
    </FormDialog>
  );
}
