// The dispatch board: fuel orders by status (what waits for a truck first), optionally of one
// station; dispatching a shipment or rejecting an order; the automatic dispatch policy.

import { useState } from "preact/hooks";
import { ChoiceButton } from "../../shared/components/form";
import { useBusy } from "../../shared/hooks";
import { api, ORDER_STATUSES, type OrderStatus } from "../api";
import { OrderList } from "../components/OrderList";
import { StationFilter } from "../components/StationFilter";
import { useHq } from "../context";
import { useTopicData } from "../hooks";

export function OrdersScreen() {
  const { t } = useHq();
  const [status, setStatus] = useState<OrderStatus | null>("ordered");
  const [station, setStation] = useState("");
  const { data: orders, reload } = useTopicData(() => api.orders({ status, station }), ["orders"], [status, station]);

  return (
    <div class="orders">
      <div class="toolbar">
        <h1>{t("orders.title")}</h1>
        <DispatchPolicySwitch />
      </div>
      <section class="card">
        <div class="filters">
          <div class="choices" role="group" aria-label={t("common.status")}>
            <ChoiceButton chip testId="orders-filter-all" active={status === null} onClick={() => setStatus(null)}>
              {t("filter.all")}
            </ChoiceButton>
            {ORDER_STATUSES.map((known) => (
              <ChoiceButton
                chip
                key={known}
                testId={`orders-filter-${known}`}
                active={status === known}
                onClick={() => setStatus(known)}
              >
                {t(`order_status.${known}`)}
              </ChoiceButton>
            ))}
          </div>
          <StationFilter testId="orders-filter-station" onStation={setStation} />
        </div>
        {orders === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <OrderList
            orders={orders}
            testId="orders-table"
            exportName={`orders-${status ?? "all"}`}
            onChanged={reload}
            windowKey={`${status ?? ""} ${station}`}
          />
        )}
      </section>
    </div>
  );
}

/** Whether HQ dispatches new orders by itself; logistics and administrators may switch it. */
function DispatchPolicySwitch() {
  const { t, can, run, notify } = useHq();
  const { data: policy, setData: setPolicy } = useTopicData(() => api.dispatchPolicy(), ["orders"], []);
  /** The position asked for while the hub has not answered yet. */
  const [asked, setAsked] = useState<boolean | null>(null);
  const [busy, whileBusy] = useBusy();

  const set = (auto: boolean) =>
    whileBusy(async () => {
      setAsked(auto);
      const result = await run(() => api.setDispatchPolicy({ auto_dispatch: auto }));
      if (result.ok) {
        setPolicy(result.value);
        notify(t(result.value.auto_dispatch ? "orders.auto_on" : "orders.auto_off"));
      }
      setAsked(null);
    });

  return (
    <label class="switch">
      <input
        type="checkbox"
        role="switch"
        data-testid="dispatch-auto"
        checked={asked ?? policy?.auto_dispatch === true}
        disabled={policy === null || busy || !can("set_dispatch_policy")}
        onChange={(e) => void set(e.currentTarget.checked)}
      />
      <span>{t("orders.auto_dispatch")}</span>
    </label>
  );
}
