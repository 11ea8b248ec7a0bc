// Small pieces showing a station's state: online or offline, its devices, its price version.

import type { DeviceStateName, Devices } from "../api";
import { useHq } from "../context";

const DEVICES = ["printer", "gauge", "pump_line"] as const;

export function OnlinePill(props: { online: boolean; testId?: string }) {
  const { t } = useHq();
  return (
    <span
      class={props.online ? "pill ok" : "pill bad"}
      data-testid={props.testId}
      data-state={props.online ? "online" : "offline"}
    >
      {t(props.online ? "station.online" : "station.offline")}
    </span>
  );
}

function deviceClass(state: DeviceStateName | null): string {
  if (state === "ready") return "pill ok";
  if (state === null || state === "not_configured") return "pill";
  return "pill warn";
}

/** Each device with its state; a device that never reported shows as "never reported". */
export function DeviceStates(props: { devices: Devices; station: string }) {
  const { t } = useHq();
  return (
    <span class="devices">
      {DEVICES.map((device) => {
        const state = props.devices[device];
        return (
          <span
            key={device}
            class={deviceClass(state)}
            data-testid={`device-${device}-${props.station}`}
            data-state={state ?? "never"}
            title={t(`device_name.${device}`)}
          >
            {t(`device_short.${device}`)} {state === null ? t("device.never") : t(`device.${state}`)}
          </span>
        );
      })}
    </span>
  );
}

/** The price version a station applied, marked when it is not the current one. */
export function PriceVersionApplied(props: { applied: number | null; current: number | null }) {
  const { t } = useHq();
  const behind = props.current !== null && props.applied !== props.current;
  return (
    <span class={behind ? "pill warn" : "pill"} data-behind={String(behind)}>
      {props.applied === null ? t("station.no_price_version") : t("prices.version_short", { version: props.applied })}
      {behind && props.current !== null ? ` → ${t("prices.version_short", { version: props.current })}` : ""}
    </span>
  );
}
