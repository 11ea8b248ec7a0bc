// The history of price versions, and the roll-out of the one chosen: how many stations applied
// it, still wait for it or are offline, and each station in a state since when.

import { useMemo, useState } from "preact/hooks";
import { SelectField } from "../../../shared/components/form";
import { formatTime, formatWon } from "../../../shared/format";
import {
  api,
  ROLLOUT_STATES,
  type PriceItem,
  type PriceVersion,
  type RolloutState,
  type RolloutStation,
} from "../../api";
import { ReportTable, type ReportColumn } from "../../components/ReportTable";
import { StationLink } from "../../components/StationLink";
import { useHq } from "../../context";
import { useTopicData } from "../../hooks";

export function Versions(props: {
  versions: PriceVersion[] | null;
  /** The version in force. */
  current: number | null;
  selected: number | null;
  onSelect: (version: number) => void;
}) {
  const { t, timeZone } = useHq();
  const { current, selected } = props;
  const chosen = props.versions?.find((version) => version.version === selected) ?? null;

  const columns = useMemo(
    (): ReportColumn<PriceVersion>[] => [
      {
        header: t("prices.version"),
        cell: (v) => (
          <>
            {t("prices.version_short", { version: v.version })}
            {v.version === current ? <span class="badge status-in_force">{t("prices.in_force")}</span> : null}
            {Date.parse(v.effective_at) > Date.now() ? (
              <span class="badge status-scheduled">{t("prices.scheduled")}</span>
            ) : null}
          </>
        ),
        csv: (v) => v.version,
      },
      {
        header: t("prices.effective"),
        cell: (v) => <span class="nowrap">{formatTime(v.effective_at, timeZone)}</span>,
        csv: (v) => formatTime(v.effective_at, timeZone),
      },
      { header: t("prices.created_by"), cell: (v) => v.created_by, csv: (v) => v.created_by },
      {
        header: t("prices.created_at"),
        cell: (v) => <span class="nowrap">{formatTime(v.created_at, timeZone)}</span>,
        csv: (v) => formatTime(v.created_at, timeZone),
      },
      { header: t("prices.items"), num: true, cell: (v) => v.items.length, csv: (v) => v.items.length },
      {
        header: t("prices.stations_applied"),
        num: true,
        cell: (v) => v.stations_applied,
        csv: (v) => v.stations_applied,
      },
      {
        header: "",
        cell: (v) => (
          <button
            type="button"
            class={v.version === selected ? "small-button active" : "small-button"}
            data-testid={`rollout-${v.version}`}
            aria-pressed={v.version === selected}
            onClick={() => props.onSelect(v.version)}
          >
            {t("prices.show_rollout")}
          </button>
        ),
      },
    ],
    [t, timeZone, current, selected, props.onSelect],
  );

  return (
    <>
      {chosen === null ? null : <RolloutPanel key={chosen.version} version={chosen} />}
      <section class="card">
        <h2>{t("prices.history")}</h2>
        {props.versions === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <ReportTable
            testId="versions-table"
            exportName="price-versions"
            columns={columns}
            rows={props.versions}
            rowKey={(v) => String(v.version)}
            row={(v) => ({
              testId: `version-row-${v.version}`,
              "data-current": v.version === current,
              class: v.version === selected ? "selected" : undefined,
            })}
          />
        )}
      </section>
    </>
  );
}

const STATE_CLASS: Record<RolloutState, string> = { applied: "pill ok", pending: "pill warn", offline: "pill bad" };

function RolloutPanel(props: { version: PriceVersion }) {
  const { t, lang, timeZone } = useHq();
  const { version } = props;
  const { data: rollout } = useTopicData(() => api.rollout(version.version), ["prices", "stations"], []);
  const [state, setState] = useState<RolloutState | "all">("all");
  const stations = useMemo(
    () => (rollout?.stations ?? []).filter((s) => state === "all" || s.state === state),
    [rollout, state],
  );

  const columns = useMemo(
    (): ReportColumn<RolloutStation>[] => [
      { header: t("station.id"), cell: (s) => <StationLink station={s.station} />, csv: (s) => s.station },
      { header: t("common.name"), cell: (s) => s.name, csv: (s) => s.name },
      {
        header: t("common.status"),
        cell: (s) => <span class={STATE_CLASS[s.state]}>{t(`rollout.state.${s.state}`)}</span>,
        csv: (s) => t(`rollout.state.${s.state}`),
      },
      {
        header: t("rollout.since"),
        cell: (s) => <span class="nowrap">{formatTime(s.since, timeZone)}</span>,
        csv: (s) => formatTime(s.since, timeZone),
      },
      {
        header: t("station.price_version"),
        num: true,
        cell: (s) => s.price_version_applied ?? "—",
        csv: (s) => s.price_version_applied,
      },
    ],
    [t, timeZone],
  );

  const itemColumns = useMemo(
    (): ReportColumn<PriceItem>[] => [
      { header: t("common.product"), cell: (i) => <span class="mono">{i.product}</span>, csv: (i) => i.product },
      { header: t("common.name"), cell: (i) => i.name, csv: (i) => i.name },
      { header: t("products.unit"), cell: (i) => t(`products.unit.${i.unit}`), csv: (i) => i.unit },
      {
        header: t("prices.unit_price"),
        num: true,
        cell: (i) => formatWon(i.unit_price_won, lang),
        csv: (i) => i.unit_price_won,
      },
    ],
    [t, lang],
  );

  const count = (name: "applied" | "pending" | "offline" | "total", value: number | undefined) => (
    <div class="summary-item">
      <span class="muted small">{t(`rollout.count.${name}`)}</span>
      <strong data-testid={`rollout-${name}-count`} data-count={value ?? ""}>
        {value ?? "…"}
      </strong>
    </div>
  );

  return (
    <section class="card" data-testid="rollout-panel" data-version={version.version}>
      <h2>
        {t("rollout.title", { version: version.version })}{" "}
        <span class="muted small">
          {t("prices.effective")}: {formatTime(version.effective_at, timeZone)}
        </span>
      </h2>
      <div class="summary">
        {count("applied", rollout?.applied)}
        {count("pending", rollout?.pending)}
        {count("offline", rollout?.offline)}
        {count("total", rollout?.stations_total)}
      </div>
      <div class="filters">
        <SelectField
          label={t("common.status")}
          testId="rollout-filter-state"
          value={state}
          onValue={(value) => setState(ROLLOUT_STATES.find((known) => known === value) ?? "all")}
        >
          <option value="all">{t("filter.all")}</option>
          {ROLLOUT_STATES.map((known) => (
            <option key={known} value={known}>
              {t(`rollout.state.${known}`)}
            </option>
          ))}
        </SelectField>
      </div>
      <ReportTable
        testId="rollout-table"
        exportName={`rollout-${version.version}`}
        columns={columns}
        rows={stations}
        rowKey={(s) => s.station}
        row={(s) => ({ testId: `rollout-station-${s.station}`, "data-state": s.state })}
        windowKey={state}
      />
      <details>
        <summary>{t("prices.version_items", { count: version.items.length })}</summary>
        <ReportTable
          testId="version-items-table"
          exportName={`prices-${version.version}`}
          columns={itemColumns}
          rows={version.items}
          rowKey={(i) => i.product}
          row={(i) => ({ testId: `version-item-${i.product}`, "data-won": i.unit_price_won })}
        />
      </details>
    </section>
  );
}
