// One station: its state and sync (online, events waiting, price version, devices), its alerts,
// its sales by day and product (table and chart), tanks with book and measured stock and the
// wet-stock variance history, its orders and deliveries, its dead letters and divergences.

import { useMemo, useState } from "preact/hooks";
import { BarChart, seriesColor } from "../../shared/components/BarChart";
import { Field } from "../../shared/components/form";
import {
  addDays,
  dateInZone,
  formatLitres,
  formatTime,
  formatWon,
  groupDigits,
  litresForFile,
} from "../../shared/format";
import { api, type DeadLetter, type Divergence, type SalesRow, type StationDetail, type StationTank } from "../api";
import { AlertTable } from "../components/AlertTable";
import { OrderList } from "../components/OrderList";
import { ReportTable, wonColumn, type ReportColumn } from "../components/ReportTable";
import { DeviceStates, OnlinePill, PriceVersionApplied } from "../components/StationStates";
import { VarianceTable } from "../components/VarianceTable";
import { useHq } from "../context";
import { useTopicData } from "../hooks";
import { screenHref } from "../route";

/** Days of sales shown when the screen opens (today and the 13 before). */
const SALES_DAYS = 14;

export function StationScreen(props: { station: string }) {
  const { t } = useHq();
  const { station } = props;
  const { data: detail } = useTopicData(() => api.station(station), ["stations", "stock", "prices"], []);

  return (
    <div class="station">
      <div class="toolbar">
        <h1 data-testid="station-title">{detail === null ? station : `${detail.station.name} (${station})`}</h1>
        <a href={screenHref("network")}>{t("station.back")}</a>
      </div>
      {detail === null ? <p class="muted">{t("common.loading")}</p> : <StationState detail={detail} />}
      <StationAlerts station={station} />
      <StationSales station={station} />
      {detail === null ? null : <StationTanks station={station} tanks={detail.tanks} />}
      <StationOrders station={station} />
      <StationSync station={station} />
    </div>
  );
}

function StationState(props: { detail: StationDetail }) {
  const { t, timeZone } = useHq();
  const { station, status } = props.detail;
  return (
    <section class="card">
      <dl class="facts">
        <dt>{t("network.region")}</dt>
        <dd>{station.region}</dd>
        <dt>{t("station.operating_type")}</dt>
        <dd>{t(`operating_type.${station.operating_type}`)}</dd>
        <dt>{t("station.registered_at")}</dt>
        <dd>{formatTime(station.registered_at, timeZone)}</dd>
        <dt>{t("common.status")}</dt>
        <dd>
          <OnlinePill online={status.online} testId="station-online" />
        </dd>
        <dt>{t("station.last_seen")}</dt>
        <dd data-testid="station-last-seen">{formatTime(status.last_seen, timeZone) || "—"}</dd>
        <dt>{t("station.waiting_from")}</dt>
        <dd data-testid="station-waiting-from">{status.events_waiting_from_station}</dd>
        <dt>{t("station.waiting_to")}</dt>
        <dd data-testid="station-waiting-to">{status.events_waiting_to_station}</dd>
        <dt>{t("station.price_version")}</dt>
        <dd data-testid="station-price-version" data-version={status.price_version_applied ?? ""}>
          <PriceVersionApplied applied={status.price_version_applied} current={null} />
          {status.price_applied_at === null ? null : (
            <span class="muted">
              {" "}
              {t("station.applied_at", { time: formatTime(status.price_applied_at, timeZone) })}
            </span>
          )}
        </dd>
        <dt>{t("station.devices")}</dt>
        <dd>
          <DeviceStates devices={status.devices} station={status.station} />
        </dd>
      </dl>
    </section>
  );
}

function StationAlerts(props: { station: string }) {
  const { t } = useHq();
  const { data: alerts } = useTopicData(() => api.alerts(props.station), ["alerts"], []);
  return (
    <section class="card">
      <h2>{t("station.alerts")}</h2>
      <AlertTable alerts={alerts ?? []} testId="station-alerts-table" exportName={`alerts-${props.station}`} />
    </section>
  );
}

function StationSales(props: { station: string }) {
  const { t, lang, timeZone, productName } = useHq();
  const [to, setTo] = useState(() => dateInZone(timeZone));
  const [from, setFrom] = useState(() => addDays(to, 1 - SALES_DAYS));
  const { data: all } = useTopicData(
    () => api.sales({ station: props.station, from, to }),
    ["sales"],
    [props.station, from, to],
  );

  const rows = useMemo(
    () =>
      [...(all ?? [])].sort(
        (a, b) => b.business_day.localeCompare(a.business_day) || a.product.localeCompare(b.product),
      ),
    [all],
  );

  const chart = useMemo(() => {
    const days = [...new Set(rows.map((row) => row.business_day))].sort();
    const products = [...new Set(rows.map((row) => row.product))].sort();
    const net = new Map(rows.map((row) => [`${row.business_day} ${row.product}`, row.net_amount_won]));
    return {
      labels: days,
      series: products.map((product, index) => ({
        label: productName(product),
        values: days.map((day) => net.get(`${day} ${product}`) ?? 0),
        color: seriesColor(index),
      })),
    };
  }, [rows, productName]);

  const columns = useMemo((): ReportColumn<SalesRow>[] => {
    const won = (header: string, value: (row: SalesRow) => number) => wonColumn(header, value, lang);
    return [
      { header: t("common.day"), cell: (r) => r.business_day, csv: (r) => r.business_day },
      { header: t("common.product"), cell: (r) => productName(r.product), csv: (r) => productName(r.product) },
      { header: t("sales.count"), num: true, cell: (r) => groupDigits(r.sales_count), csv: (r) => r.sales_count },
      {
        header: t("sales.canceled_count"),
        num: true,
        cell: (r) => groupDigits(r.canceled_count),
        csv: (r) => r.canceled_count,
      },
      {
        header: t("sales.volume"),
        num: true,
        cell: (r) => formatLitres(r.sales_volume_ml - r.canceled_volume_ml),
        csv: (r) => litresForFile(r.sales_volume_ml - r.canceled_volume_ml),
      },
      {
        header: t("sales.quantity"),
        num: true,
        cell: (r) => groupDigits(r.sales_quantity - r.canceled_quantity),
        csv: (r) => r.sales_quantity - r.canceled_quantity,
      },
      won(t("sales.gross"), (r) => r.sales_amount_won),
      won(t("sales.canceled_amount"), (r) => r.canceled_amount_won),
      won(t("sales.net"), (r) => r.net_amount_won),
    ];
  }, [t, lang, productName]);

  const formatValue = useMemo(() => (won: number) => formatWon(won, lang), [lang]);

  return (
    <section class="card">
      <div class="toolbar">
        <h2>{t("station.sales")}</h2>
        <Field label={t("range.from")}>
          <input
            type="date"
            data-testid="station-from"
            value={from}
            max={to}
            onChange={(e) => e.currentTarget.value !== "" && setFrom(e.currentTarget.value)}
          />
        </Field>
        <Field label={t("range.to")}>
          <input
            type="date"
            data-testid="station-to"
            value={to}
            min={from}
            onChange={(e) => e.currentTarget.value !== "" && setTo(e.currentTarget.value)}
          />
        </Field>
      </div>
      <BarChart
        labels={chart.labels}
        series={chart.series}
        formatValue={formatValue}
        label={t("station.sales_chart")}
        testId="station-sales-chart"
        stacked
      />
      <ReportTable
        testId="station-sales-table"
        exportName={`sales-${props.station}-${from}-${to}`}
        columns={columns}
        rows={rows}
        rowKey={(r) => `${r.business_day}-${r.product}`}
        row={(r) => ({ testId: `station-sales-row-${r.business_day}-${r.product}`, "data-net-won": r.net_amount_won })}
        windowKey={`${from} ${to}`}
      />
    </section>
  );
}

function StationTanks(props: { station: string; tanks: StationTank[] }) {
  const { t, productName } = useHq();
  const { data: variance } = useTopicData(() => api.wetStock({ station: props.station }), ["stock"], []);
  const history = useMemo(
    () => [...(variance ?? [])].sort((a, b) => b.business_day.localeCompare(a.business_day) || a.tank - b.tank),
    [variance],
  );
  const columns = useMemo((): ReportColumn<StationTank>[] => {
    const litres = (header: string, value: (tank: StationTank) => number | null): ReportColumn<StationTank> => ({
      header,
      num: true,
      cell: (tank) => {
        const ml = value(tank);
        return ml === null ? "—" : formatLitres(ml);
      },
      csv: (tank) => {
        const ml = value(tank);
        return ml === null ? null : litresForFile(ml);
      },
    });
    return [
      { header: t("stock.tank"), num: true, cell: (k) => k.tank, csv: (k) => k.tank },
      { header: t("common.product"), cell: (k) => productName(k.product), csv: (k) => productName(k.product) },
      litres(t("stock.capacity"), (k) => k.capacity_ml),
      litres(t("stock.book"), (k) => k.book_stock_ml),
      litres(t("stock.measured"), (k) => k.measured_ml),
      litres(t("stock.measured_minus_book"), (k) => (k.measured_ml === null ? null : k.measured_ml - k.book_stock_ml)),
      { header: t("stock.measured_on"), cell: (k) => k.measured_on ?? "—", csv: (k) => k.measured_on },
    ];
  }, [t, productName]);

  return (
    <section class="card">
      <h2>{t("station.tanks")}</h2>
      <ReportTable
        testId="station-tanks-table"
        exportName={`tanks-${props.station}`}
        columns={columns}
        rows={props.tanks}
        rowKey={(k) => String(k.tank)}
        row={(k) => ({
          testId: `tank-row-${k.tank}`,
          "data-book-ml": k.book_stock_ml,
          "data-measured-ml": k.measured_ml ?? "",
        })}
      />
      <h3>{t("station.variance_history")}</h3>
      <VarianceTable
        rows={history}
        testId="station-variance-table"
        exportName={`variance-${props.station}`}
        withStation={false}
      />
    </section>
  );
}

function StationOrders(props: { station: string }) {
  const { t } = useHq();
  const { data: orders, reload } = useTopicData(() => api.orders({ station: props.station }), ["orders"], []);
  return (
    <section class="card">
      <h2>{t("station.orders")}</h2>
      <OrderList
        orders={orders ?? []}
        testId="station-orders-table"
        exportName={`orders-${props.station}`}
        onChanged={reload}
      />
    </section>
  );
}

function StationSync(props: { station: string }) {
  const { t, timeZone } = useHq();
  const { data: deadLetters } = useTopicData(() => api.deadLetters(props.station), ["stations"], []);
  const { data: divergences } = useTopicData(() => api.divergences(props.station), ["stations"], []);

  const deadLetterColumns = useMemo(
    (): ReportColumn<DeadLetter>[] => [
      {
        header: t("sync.received"),
        cell: (d) => <span class="nowrap">{formatTime(d.received_at, timeZone, { seconds: true })}</span>,
        csv: (d) => formatTime(d.received_at, timeZone, { seconds: true }),
      },
      { header: t("sync.seq"), num: true, cell: (d) => d.seq ?? "—", csv: (d) => d.seq },
      { header: t("sync.code"), cell: (d) => <span class="mono">{d.code}</span>, csv: (d) => d.code },
      { header: t("sync.reason"), cell: (d) => d.reason, csv: (d) => d.reason },
      { header: t("sync.message"), cell: (d) => <span class="mono small">{d.message}</span>, csv: (d) => d.message },
    ],
    [t, timeZone],
  );
  const divergenceColumns = useMemo(
    (): ReportColumn<Divergence>[] => [
      {
        header: t("sync.detected"),
        cell: (d) => <span class="nowrap">{formatTime(d.detected_at, timeZone, { seconds: true })}</span>,
        csv: (d) => formatTime(d.detected_at, timeZone, { seconds: true }),
      },
      {
        header: t("sync.direction"),
        cell: (d) =>
          d.direction === "up" || d.direction === "down" ? t(`sync.direction.${d.direction}`) : d.direction,
        csv: (d) => d.direction,
      },
      { header: t("sync.kind"), cell: (d) => <span class="mono">{d.kind}</span>, csv: (d) => d.kind },
      {
        header: t("sync.streams"),
        cell: (d) => <span class="mono small">{`${d.old_stream ?? "—"} → ${d.new_stream ?? "—"}`}</span>,
        csv: (d) => `${d.old_stream ?? ""} -> ${d.new_stream ?? ""}`,
      },
      { header: t("sync.at_seq"), num: true, cell: (d) => d.at_seq ?? "—", csv: (d) => d.at_seq },
      { header: t("sync.detail"), cell: (d) => d.detail, csv: (d) => d.detail },
    ],
    [t, timeZone],
  );

  return (
    <section class="card">
      <h2>{t("station.dead_letters")}</h2>
      <ReportTable
        testId="station-dead-letters-table"
        exportName={`dead-letters-${props.station}`}
        columns={deadLetterColumns}
        rows={deadLetters ?? []}
        rowKey={(d) => String(d.id)}
        row={(d) => ({ testId: `dead-letter-${d.id}`, "data-code": d.code })}
      />
      <h2>{t("station.divergences")}</h2>
      <ReportTable
        testId="station-divergences-table"
        exportName={`divergences-${props.station}`}
        columns={divergenceColumns}
        rows={divergences ?? []}
        rowKey={(d) => String(d.id)}
        row={(d) => ({ testId: `divergence-${d.id}`, "data-kind": d.kind })}
      />
    </section>
  );
}
