// Fuel orders with their shipments, and for logistics the two things done to an open order:
// dispatch a shipment (truck, volume, expected time) or reject it with a reason.

import { useMemo, useState } from "preact/hooks";
import { TextField } from "../../shared/components/form";
import { FormDialog } from "../../shared/components/Modal";
import { formatLitres, formatTime, litresForFile, localInputToUtc, parseLitres } from "../../shared/format";
import { api, type Order } from "../api";
import { useHq } from "../context";
import { ReportTable, type ReportColumn } from "./ReportTable";
import { StationLink } from "./StationLink";

export function OrderList(props: {
  orders: readonly Order[];
  testId: string;
  exportName: string;
  /** Called with the order as the hub answers it after a dispatch or a rejection. */
  onChanged: (order: Order) => void;
  windowKey?: string;
}) {
  const { t, can } = useHq();
  const [dispatching, setDispatching] = useState<Order | null>(null);
  const [rejecting, setRejecting] = useState<Order | null>(null);
  const mayDispatch = can("dispatch_orders");
  const columns = useOrderColumns();

  const actions: ReportColumn<Order> = {
    header: "",
    cell: (order) =>
      order.status === "ordered" && mayDispatch ? (
        <span class="actions">
          <button
            type="button"
            class="primary"
            data-testid={`order-dispatch-${order.order}`}
            onClick={() => setDispatching(order)}
          >
            {t("orders.dispatch")}
          </button>
          <button
            type="button"
            class="danger"
            data-testid={`order-reject-${order.order}`}
            onClick={() => setRejecting(order)}
          >
            {t("orders.reject")}
          </button>
        </span>
      ) : null,
  };

  const done = (order: Order) => {
    setDispatching(null);
    setRejecting(null);
    props.onChanged(order);
  };

  return (
    <>
      <ReportTable
        testId={props.testId}
        exportName={props.exportName}
        columns={[...columns, actions]}
        rows={props.orders}
        rowKey={(order) => order.order}
        row={(order) => ({ testId: `order-row-${order.order}`, "data-status": order.status })}
        windowKey={props.windowKey}
      />
      {dispatching === null ? null : (
        <DispatchDialog order={dispatching} onClose={() => setDispatching(null)} onDone={done} />
      )}
      {rejecting === null ? null : <RejectDialog order={rejecting} onClose={() => setRejecting(null)} onDone={done} />}
    </>
  );
}

function useOrderColumns(): ReportColumn<Order>[] {
  const { t, timeZone, productName } = useHq();
  return useMemo(
    () => [
      {
        header: t("orders.ordered_at"),
        cell: (o) => <span class="nowrap">{formatTime(o.ordered_at, timeZone)}</span>,
        csv: (o) => formatTime(o.ordered_at, timeZone),
      },
      { header: t("station.id"), cell: (o) => <StationLink station={o.station} />, csv: (o) => o.station },
      { header: t("common.product"), cell: (o) => productName(o.product), csv: (o) => productName(o.product) },
      {
        header: t("orders.ordered_litres"),
        num: true,
        cell: (o) => formatLitres(o.ordered_volume_ml),
        csv: (o) => litresForFile(o.ordered_volume_ml),
      },
      {
        header: t("orders.shipped_litres"),
        num: true,
        cell: (o) => formatLitres(o.shipped_volume_ml),
        csv: (o) => litresForFile(o.shipped_volume_ml),
      },
      {
        header: t("orders.received_litres"),
        num: true,
        cell: (o) => formatLitres(o.received_volume_ml),
        csv: (o) => litresForFile(o.received_volume_ml),
      },
      { header: t("orders.wanted_date"), cell: (o) => o.wanted_date, csv: (o) => o.wanted_date },
      {
        header: t("common.status"),
        cell: (o) => (
          <>
            <span class={`pill status-${o.status}`}>{t(`order_status.${o.status}`)}</span>
            {o.status_reason === null ? null : <div class="muted small">{o.status_reason}</div>}
          </>
        ),
        csv: (o) => t(`order_status.${o.status}`),
      },
      {
        header: t("orders.shipments"),
        cell: (o) => (
          <ul class="shipments">
            {o.shipments.map((s) => (
              <li key={s.shipment} data-testid={`shipment-${s.shipment}`}>
                <span class="mono">{s.truck}</span> · {formatLitres(s.volume_ml)} L ·{" "}
                {s.confirmed_at === null
                  ? s.expected_at === null
                    ? t("orders.dispatched_at", { time: formatTime(s.dispatched_at, timeZone) })
                    : t("orders.expected_at", { time: formatTime(s.expected_at, timeZone) })
                  : t("orders.received_at", {
                      litres: formatLitres(s.received_volume_ml ?? 0),
                      time: formatTime(s.confirmed_at, timeZone),
                    })}
              </li>
            ))}
          </ul>
        ),
        csv: (o) => o.shipments.map((s) => `${s.truck} ${litresForFile(s.volume_ml)} L`).join("; "),
      },
      { header: t("orders.order"), cell: (o) => <span class="mono small">{o.order}</span>, csv: (o) => o.order },
    ],
    [t, timeZone, productName],
  );
}

function DispatchDialog(props: { order: Order; onClose: () => void; onDone: (order: Order) => void }) {
  const { t, run, notify, productName } = useHq();
  const { order } = props;
  const left = Math.max(order.ordered_volume_ml - order.shipped_volume_ml, 0);
  const [truck, setTruck] = useState("");
  const [litres, setLitres] = useState(formatLitres(left));
  const [expected, setExpected] = useState("");
  const [errors, setErrors] = useState<{ truck?: string; volume?: string; expected?: string }>({});

  const submit = async () => {
    const volume = parseLitres(litres);
    const expectedAt = expected === "" ? null : localInputToUtc(expected);
    const found = {
      truck: truck.trim() === "" ? t("orders.need_truck") : undefined,
      volume: volume === null || volume === 0 ? t("orders.bad_litres") : undefined,
      expected: expected !== "" && expectedAt === null ? t("orders.bad_time") : undefined,
    };
    setErrors(found);
    if (volume === null || found.truck !== undefined || found.volume !== undefined || found.expected !== undefined) {
      return;
    }
    const shipment = {
      truck: truck.trim(),
      volume_ml: volume,
      ...(expectedAt === null ? {} : { expected_at: expectedAt }),
    };
    const result = await run(() => api.dispatch(order.order, shipment));
    if (result.ok) {
      notify(t("orders.dispatched", { station: order.station }));
      props.onDone(result.value);
    }
  };

  return (
    <FormDialog
      title={t("orders.dispatch_title", { station: order.station, product: productName(order.product) })}
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={t("orders.dispatch_submit")}
      submitTestId="dispatch-submit"
      testId="dispatch-dialog"
    >
      <p class="muted">
        {t("orders.dispatch_ordered", { litres: formatLitres(order.ordered_volume_ml), date: order.wanted_date })}
      </p>
      <TextField
        label={t("orders.truck")}
        testId="dispatch-truck"
        autoComplete="off"
        value={truck}
        onValue={setTruck}
        error={errors.truck ?? null}
      />
      <TextField
        label={t("orders.volume_litres")}
        testId="dispatch-volume"
        inputMode="decimal"
        autoComplete="off"
        value={litres}
        onValue={setLitres}
        error={errors.volume ?? null}
      />
      <TextField
        label={t("orders.expected_optional")}
        testId="dispatch-expected"
        type="datetime-local"
        value={expected}
        onValue={setExpected}
        error={errors.expected ?? null}
      />
    </FormDialog>
  );
}

function RejectDialog(props: { order: Order; onClose: () => void; onDone: (order: Order) => void }) {
  const { t, run, notify } = useHq();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    if (reason.trim() === "") {
      setError(t("orders.need_reason"));
      return;
    }
    const result = await run(() => api.reject(props.order.order, reason.trim()));
    if (result.ok) {
      notify(t("orders.rejected", { station: props.order.station }));
      props.onDone(result.value);
    }
  };

  return (
    <FormDialog
      title={t("orders.reject_title", { station: props.order.station })}
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={t("orders.reject")}
      submitTestId="reject-submit"
      testId="reject-dialog"
      danger
    >
      <TextField label={t("orders.reason")} testId="reject-reason" value={reason} onValue={setReason} error={error} />
    </FormDialog>
  );
}
