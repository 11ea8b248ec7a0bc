// Every station in one table: online or offline, last seen, events waiting both ways, the price
// version applied against the current one, open alerts and device states. Filters and search
// run in the page over the hub's one answer (1,000 stations and more): memoised, and the table
// draws 200 rows at a time.

import { useMemo, useState } from "preact/hooks";
import { Field, SelectField, TextField } from "../../shared/components/form";
import { FormDialog } from "../../shared/components/Modal";
import { formatTime } from "../../shared/format";
import { api, OPERATING_TYPES, type NetworkStation, type OperatingType } from "../api";
import { ReportTable, type ReportColumn } from "../components/ReportTable";
import { StationLink } from "../components/StationLink";
import { DeviceStates, OnlinePill, PriceVersionApplied } from "../components/StationStates";
import { useHq } from "../context";
import { useTopicData } from "../hooks";

const STATES = ["all", "online", "offline", "alerts"] as const;
type StateFilter = (typeof STATES)[number];

interface Filters {
  search: string;
  region: string;
  type: OperatingType | "";
  state: StateFilter;
}

function matches(station: NetworkStation, filters: Filters, search: string): boolean {
  if (filters.region !== "" && station.region !== filters.region) return false;
  if (filters.type !== "" && station.operating_type !== filters.type) return false;
  if (filters.state === "online" && !station.online) return false;
  if (filters.state === "offline" && station.online) return false;
  if (filters.state === "alerts" && station.alerts === 0) return false;
  return search === "" || station.station.toLowerCase().includes(search) || station.name.toLowerCase().includes(search);
}

export function NetworkScreen() {
  const { t, can } = useHq();
  const { data: network, reload } = useTopicData(() => api.network(), ["stations", "prices", "alerts"], []);
  const [filters, setFilters] = useState<Filters>({ search: "", region: "", type: "", state: "all" });
  const [registering, setRegistering] = useState(false);
  const set = (change: Partial<Filters>) => setFilters((before) => ({ ...before, ...change }));

  const stations = useMemo(() => network?.stations ?? [], [network]);
  const current = network?.current_price_version ?? null;
  const regions = useMemo(
    () => [...new Set(stations.map((s) => s.region))].sort((a, b) => a.localeCompare(b)),
    [stations],
  );
  const summary = useMemo(
    () => ({
      total: stations.length,
      online: stations.filter((s) => s.online).length,
      offline: stations.filter((s) => !s.online).length,
      alerts: stations.filter((s) => s.alerts > 0).length,
      behind: current === null ? 0 : stations.filter((s) => s.price_version_applied !== current).length,
    }),
    [stations, current],
  );
  const shown = useMemo(() => {
    const search = filters.search.trim().toLowerCase();
    return stations.filter((station) => matches(station, filters, search));
  }, [stations, filters]);

  const columns = useNetworkColumns(current);

  return (
    <div class="network">
      <div class="toolbar">
        <h1>{t("network.title")}</h1>
        {can("register_stations") ? (
          <button type="button" data-testid="network-register" onClick={() => setRegistering(true)}>
            {t("network.register")}
          </button>
        ) : null}
      </div>
      <div class="summary">
        {(["total", "online", "offline", "alerts", "behind"] as const).map((name) => (
          <div class="summary-item" key={name}>
            <span class="muted small">{t(`network.summary.${name}`)}</span>
            <strong data-testid={`network-summary-${name}`}>{summary[name]}</strong>
          </div>
        ))}
        <div class="summary-item">
          <span class="muted small">{t("network.current_version")}</span>
          <strong>{current === null ? "—" : t("prices.version_short", { version: current })}</strong>
        </div>
      </div>
      <section class="card">
        <div class="filters">
          <Field label={t("network.search")}>
            <input
              type="search"
              data-testid="network-search"
              placeholder={t("network.search_placeholder")}
              value={filters.search}
              onInput={(e) => set({ search: e.currentTarget.value })}
            />
          </Field>
          <SelectField
            label={t("network.region")}
            testId="network-filter-region"
            value={filters.region}
            onValue={(region) => set({ region })}
          >
            <option value="">{t("filter.all")}</option>
            {regions.map((region) => (
              <option key={region} value={region}>
                {region}
              </option>
            ))}
          </SelectField>
          <SelectField
            label={t("station.operating_type")}
            testId="network-filter-type"
            value={filters.type}
            onValue={(type) => set({ type: OPERATING_TYPES.find((known) => known === type) ?? "" })}
          >
            <option value="">{t("filter.all")}</option>
            {OPERATING_TYPES.map((type) => (
              <option key={type} value={type}>
                {t(`operating_type.${type}`)}
              </option>
            ))}
          </SelectField>
          <SelectField
            label={t("network.state")}
            testId="network-filter-state"
            value={filters.state}
            onValue={(state) => set({ state: STATES.find((known) => known === state) ?? "all" })}
          >
            {STATES.map((state) => (
              <option key={state} value={state}>
                {t(`network.state.${state}`)}
              </option>
            ))}
          </SelectField>
        </div>
        {network === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <ReportTable
            testId="network-table"
            exportTestId="network-export"
            exportName="network"
            columns={columns}
            rows={shown}
            rowKey={(s) => s.station}
            row={(s) => ({
              testId: `network-row-${s.station}`,
              "data-online": s.online,
              "data-alerts": s.alerts,
              "data-price-version": s.price_version_applied ?? "",
              class: s.online ? undefined : "offline",
            })}
            windowKey={JSON.stringify(filters)}
          />
        )}
      </section>
      {registering ? (
        <RegisterDialog
          onClose={() => setRegistering(false)}
          onRegistered={() => {
            setRegistering(false);
            reload();
          }}
        />
      ) : null}
    </div>
  );
}

function useNetworkColumns(current: number | null): ReportColumn<NetworkStation>[] {
  const { t, timeZone } = useHq();
  return useMemo(
    () => [
      { header: t("station.id"), cell: (s) => <StationLink station={s.station} />, csv: (s) => s.station },
      { header: t("common.name"), cell: (s) => s.name, csv: (s) => s.name },
      { header: t("network.region"), cell: (s) => s.region, csv: (s) => s.region },
      {
        header: t("station.operating_type"),
        cell: (s) => t(`operating_type.${s.operating_type}`),
        csv: (s) => t(`operating_type.${s.operating_type}`),
      },
      {
        header: t("common.status"),
        cell: (s) => <OnlinePill online={s.online} />,
        csv: (s) => t(s.online ? "station.online" : "station.offline"),
      },
      {
        header: t("station.last_seen"),
        cell: (s) => <span class="nowrap">{formatTime(s.last_seen, timeZone)}</span>,
        csv: (s) => formatTime(s.last_seen, timeZone),
      },
      {
        header: t("station.waiting_from"),
        num: true,
        cell: (s) => s.events_waiting_from_station,
        csv: (s) => s.events_waiting_from_station,
      },
      {
        header: t("station.waiting_to"),
        num: true,
        cell: (s) => s.events_waiting_to_station,
        csv: (s) => s.events_waiting_to_station,
      },
      {
        header: t("station.price_version"),
        cell: (s) => <PriceVersionApplied applied={s.price_version_applied} current={current} />,
        csv: (s) => s.price_version_applied,
      },
      {
        header: t("station.alerts"),
        num: true,
        cell: (s) => (s.alerts > 0 ? <span class="pill bad">{s.alerts}</span> : "0"),
        csv: (s) => s.alerts,
      },
      {
        header: t("station.devices"),
        cell: (s) => <DeviceStates devices={s.devices} station={s.station} />,
        csv: (s) =>
          (["printer", "gauge", "pump_line"] as const)
            .map((device) => `${t(`device_name.${device}`)}: ${s.devices[device] ?? "-"}`)
            .join("; "),
      },
    ],
    [t, timeZone, current],
  );
}

/** Registers a station with HQ (administrators). */
function RegisterDialog(props: { onClose: () => void; onRegistered: () => void }) {
  const { t, run, notify } = useHq();
  const [station, setStation] = useState("");
  const [name, setName] = useState("");
  const [type, setType] = useState<OperatingType>("directly_managed");
  const [region, setRegion] = useState("");

  const submit = async () => {
    const id = station.trim();
    const result = await run(() =>
      api.registerStation({ station: id, name: name.trim(), operating_type: type, region: region.trim() }),
    );
    if (result.ok) {
      notify(t("network.registered", { station: id }));
      props.onRegistered();
    }
  };

  return (
    <FormDialog
      title={t("network.register")}
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={t("network.register_submit")}
      submitTestId="station-register-submit"
    >
      <TextField
        label={t("station.id")}
        testId="station-form-id"
        autoComplete="off"
        value={station}
        onValue={setStation}
      />
      <TextField label={t("common.name")} testId="station-form-name" value={name} onValue={setName} />
      <SelectField
        label={t("station.operating_type")}
        testId="station-form-type"
        value={type}
        onValue={(value) => setType(OPERATING_TYPES.find((known) => known === value) ?? "directly_managed")}
      >
        {OPERATING_TYPES.map((known) => (
          <option key={known} value={known}>
            {t(`operating_type.${known}`)}
          </option>
        ))}
      </SelectField>
      <TextField label={t("network.region")} testId="station-form-region" value={region} onValue={setRegion} />
    </FormDialog>
  );
}
