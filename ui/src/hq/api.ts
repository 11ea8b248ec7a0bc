// The hub's HTTP API as the HQ dashboard uses it (same origin, under /api): JSON types and the
// client. Money is integer won (`*_won`), volume integer millilitres (`*_ml`), times RFC 3339 UTC,
// days YYYY-MM-DD.

import type { StationAuditAction } from "../shared/audit";
import { createHttpClient, query, seg } from "../shared/http";

export type Role = "administrator" | "pricing" | "logistics" | "analyst";

export const ROLES: readonly Role[] = ["administrator", "pricing", "logistics", "analyst"];

export interface LoginResult {
  token: string;
  expires_at: string;
  username: string;
  role: Role;
}

export interface Me {
  username: string;
  role: Role;
}

export interface HqUser {
  username: string;
  role: Role;
  created_at: string;
  /** Locked out after too many wrong passwords, until an administrator lifts it. */
  locked: boolean;
}

/** What an audit entry records. */
export const AUDIT_ACTIONS = [
  "login",
  "login_failed",
  "locked_out",
  "lockout_lifted",
  "user_added",
  "role_changed",
  "station_registered",
  "product_saved",
  "price_published",
  "shipment_dispatched",
  "order_rejected",
  "dispatch_policy_set",
  "alert_settings_set",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  entry: number;
  at: string;
  /** One of AUDIT_ACTIONS, or one this dashboard does not know yet. */
  action: string;
  actor: string;
  subject: string | null;
  detail: string;
}

/** What a station's audit entry records (the station's own actions). */
export { STATION_AUDIT_ACTIONS, type StationAuditAction } from "../shared/audit";

/** One entry of a station's audit log, as the station sent it. */
export interface StationAuditEntry {
  /** Its place among all stations' entries at HQ (for paging back). */
  audit_no: number;
  station: string;
  name: string;
  /** Its place in the station's own log. */
  entry: number;
  at: string;
  /** One of STATION_AUDIT_ACTIONS, or one of a newer station version. */
  action: string;
  actor: string;
  approved_by: string | null;
  subject: string | null;
  detail: string;
}

export interface StationAuditFilter {
  station?: string;
  q?: string;
  action?: StationAuditAction | null;
  actor?: string;
  limit?: number;
}

export interface AuditFilter {
  /** Matches the subject or the detail (a substring). */
  q?: string;
  action?: AuditAction | null;
  actor?: string;
  limit?: number;
}

/** What a `changed` event names: the parts of HQ's data that changed. */
export const TOPICS = ["stations", "prices", "orders", "sales", "stock", "alerts", "audit", "users"] as const;

export type Topic = (typeof TOPICS)[number];

export type OperatingType = "directly_managed" | "consignment" | "franchise";

export const OPERATING_TYPES: readonly OperatingType[] = ["directly_managed", "consignment", "franchise"];

export type DeviceStateName = "not_configured" | "connecting" | "ready" | "not_ready" | "disconnected" | "unknown";

/** Each device's last reported state, null when it never reported. */
export interface Devices {
  printer: DeviceStateName | null;
  gauge: DeviceStateName | null;
  pump_line: DeviceStateName | null;
}

export interface NetworkStation {
  station: string;
  name: string;
  region: string;
  operating_type: OperatingType;
  online: boolean;
  last_seen: string | null;
  events_waiting_from_station: number;
  events_waiting_to_station: number;
  price_version_applied: number | null;
  price_applied_at: string | null;
  /** Open alerts. */
  alerts: number;
  devices: Devices;
}

export interface Network {
  current_price_version: number | null;
  stations: NetworkStation[];
}

export interface Station {
  station: string;
  name: string;
  region: string;
  operating_type: OperatingType;
  registered_at: string;
}

export interface RegisterStation {
  station: string;
  name: string;
  operating_type: OperatingType;
  region: string;
}

export interface StationTank {
  tank: number;
  product: string;
  capacity_ml: number;
  book_stock_ml: number;
  measured_ml: number | null;
  /** The business day of the measurement. */
  measured_on: string | null;
}

export interface StationDetail {
  station: Station;
  status: NetworkStation;
  tanks: StationTank[];
}

/** One station's sales of one product on one business day. */
export interface SalesRow {
  station: string;
  business_day: string;
  product: string;
  sales_count: number;
  sales_volume_ml: number;
  sales_quantity: number;
  sales_amount_won: number;
  canceled_count: number;
  canceled_volume_ml: number;
  canceled_quantity: number;
  canceled_amount_won: number;
  net_amount_won: number;
}

/** One tank's wet-stock reconciliation for a business day. */
export interface WetStockRow {
  station: string;
  business_day: string;
  tank: number;
  product: string;
  opening_ml: number;
  deliveries_ml: number;
  sales_ml: number;
  closing_ml: number;
  variance_ml: number;
  limit_ml: number;
  flagged: boolean;
}

export type OrderStatus = "ordered" | "shipped" | "delivered" | "canceled" | "rejected";

export const ORDER_STATUSES: readonly OrderStatus[] = ["ordered", "shipped", "delivered", "canceled", "rejected"];

export interface Shipment {
  shipment: string;
  order: string;
  station: string;
  product: string;
  volume_ml: number;
  truck: string;
  dispatched_at: string;
  expected_at: string | null;
  tank: number | null;
  received_volume_ml: number | null;
  confirmed_at: string | null;
}

export interface Order {
  order: string;
  station: string;
  product: string;
  ordered_volume_ml: number;
  shipped_volume_ml: number;
  received_volume_ml: number;
  status: OrderStatus;
  status_reason: string | null;
  wanted_date: string;
  ordered_at: string;
  updated_at: string;
  shipments: Shipment[];
}

export interface ShipmentRequest {
  truck: string;
  volume_ml: number;
  expected_at?: string;
}

export interface DeadLetter {
  id: number;
  station: string | null;
  seq: number | null;
  code: string;
  reason: string;
  message: string;
  received_at: string;
}

export interface Divergence {
  id: number;
  station: string;
  /** `up`: the station's events towards HQ; `down`: HQ's messages towards the station. */
  direction: string;
  kind: string;
  old_stream: string | null;
  new_stream: string | null;
  at_seq: number | null;
  detail: string;
  detected_at: string;
}

export type Unit = "litre" | "piece";

export const UNITS: readonly Unit[] = ["litre", "piece"];

export interface Product {
  product: string;
  name: string;
  unit: Unit;
}

export interface PriceItem {
  product: string;
  name: string;
  unit: Unit;
  unit_price_won: number;
}

export interface PriceVersion {
  version: number;
  effective_at: string;
  created_by: string;
  created_at: string;
  items: PriceItem[];
  stations_applied: number;
}

export interface NewPrice {
  product: string;
  unit_price_won: number;
}

export type RolloutState = "applied" | "pending" | "offline";

export const ROLLOUT_STATES: readonly RolloutState[] = ["applied", "pending", "offline"];

export interface RolloutStation {
  station: string;
  name: string;
  state: RolloutState;
  /** Applied: when; pending: the version's publish time; offline: last seen. */
  since: string | null;
  price_version_applied: number | null;
}

export interface Rollout {
  version: number;
  effective_at: string;
  stations_total: number;
  applied: number;
  pending: number;
  offline: number;
  stations: RolloutStation[];
}

export interface DispatchPolicy {
  auto_dispatch: boolean;
}

export type SalesBy = "day" | "product" | "station" | "operating_type";

export const SALES_BY: readonly SalesBy[] = ["day", "product", "station", "operating_type"];

export interface SalesReportFilter {
  from: string;
  to: string;
  by: SalesBy;
  station?: string;
  product?: string;
  operating_type?: OperatingType | "";
}

export interface SalesReportRow {
  /** The day, product, station or operating type; "total" for the total. */
  key: string;
  label: string;
  sales_count: number;
  sales_volume_ml: number;
  sales_quantity: number;
  sales_amount_won: number;
  canceled_amount_won: number;
  net_amount_won: number;
}

export interface SalesReport {
  from: string;
  to: string;
  by: SalesBy;
  /** By day ascending; otherwise by net amount, largest first. */
  rows: SalesReportRow[];
  total: SalesReportRow;
}

export interface StockRow {
  station: string;
  name: string;
  tank: number;
  product: string;
  product_name: string;
  capacity_ml: number;
  book_stock_ml: number;
  /** Average over the last 7 business days with sales. */
  daily_sales_ml: number;
  /** Days of cover × 10; null without sales. */
  days_of_cover_tenths: number | null;
  low: boolean;
}

export interface ProductStock {
  product: string;
  product_name: string;
  book_stock_ml: number;
  capacity_ml: number;
  daily_sales_ml: number;
  days_of_cover_tenths: number | null;
}

export interface StockReport {
  rows: StockRow[];
  by_product: ProductStock[];
}

export type AlertKind =
  "station_offline" | "backlog_growing" | "price_not_applied" | "variance_over_limit" | "low_stock" | "dead_letters";

export const ALERT_KINDS: readonly AlertKind[] = [
  "station_offline",
  "backlog_growing",
  "price_not_applied",
  "variance_over_limit",
  "low_stock",
  "dead_letters",
];

export interface Alert {
  kind: AlertKind;
  station: string;
  name: string;
  /** A time; a business day (YYYY-MM-DD) for a wet-stock variance; null when unknown (low stock). */
  since: string | null;
  /** In English; the page says it from `figures` in its own language. */
  detail: string;
  /** The detail's figures by name (volumes in ml; `holds` 0: none). */
  figures: Record<string, number>;
}

export interface AlertSettings {
  offline_after_minutes: number;
  backlog_limit: number;
  price_not_applied_after_minutes: number;
  low_stock_days: number;
}

const http = createHttpClient({ tokenKey: "hq.token", credentialCodes: ["bad_credentials"] });

export const { storedToken, storeToken, setUnauthenticatedHandler } = http;

const { get, post, put } = http;

/** Rows asked for from lists the hub caps (dead letters, divergences). */
const LIST_LIMIT = 200;

export const api = {
  login: (username: string, password: string) => post<LoginResult>("/api/login", { username, password }),
  logout: () => post<unknown>("/api/logout"),
  me: () => get<Me>("/api/me"),

  hqUsers: () => get<HqUser[]>("/api/hq-users"),
  addHqUser: (username: string, password: string, role: Role) =>
    post<HqUser>("/api/hq-users", { username, password, role }),
  setRole: (username: string, role: Role) => put<HqUser>(`/api/hq-users/${seg(username)}/role`, { role }),
  liftLockout: (username: string) => post<unknown>(`/api/hq-users/${seg(username)}/lockout/lift`),
  /** Newest first. */
  audit: (filter: AuditFilter) => get<AuditEntry[]>(`/api/audit${query({ ...filter })}`),
  /** Newest first. */
  stationAudit: (filter: StationAuditFilter) =>
    get<StationAuditEntry[]>(`/api/station-audit${query({ ...filter })}`),

  network: () => get<Network>("/api/network"),
  stations: () => get<Station[]>("/api/stations"),
  registerStation: (station: RegisterStation) => post<Station>("/api/stations", station),
  station: (station: string) => get<StationDetail>(`/api/stations/${seg(station)}`),

  sales: (filter: { station?: string; day?: string; from?: string; to?: string }) =>
    get<SalesRow[]>(`/api/sales${query(filter)}`),
  wetStock: (filter: { station?: string; day?: string; flagged?: boolean }) =>
    get<WetStockRow[]>(`/api/wet-stock${query(filter)}`),
  /** Newest first. */
  orders: (filter: { station?: string; status?: OrderStatus | null }) => get<Order[]>(`/api/orders${query(filter)}`),
  deadLetters: (station: string) => get<DeadLetter[]>(`/api/dead-letters${query({ station, limit: LIST_LIMIT })}`),
  divergences: (station: string) => get<Divergence[]>(`/api/sync/divergences${query({ station, limit: LIST_LIMIT })}`),

  products: () => get<Product[]>("/api/products"),
  saveProduct: (product: string, name: string, unit: Unit) =>
    put<Product>(`/api/products/${seg(product)}`, { name, unit }),
  /** Newest first. */
  prices: () => get<PriceVersion[]>("/api/prices"),
  /** Without `effectiveAt`, in force at once. */
  publishPrices: (prices: NewPrice[], effectiveAt: string | null) =>
    post<PriceVersion>("/api/prices", effectiveAt === null ? { prices } : { prices, effective_at: effectiveAt }),
  /** A price book as CSV text (header `product,unit_price_won`); a bad line refuses it whole. */
  publishPriceBook: (csv: string, effectiveAt: string | null) =>
    http.request<PriceVersion>("POST", `/api/prices/csv${query({ effective_at: effectiveAt })}`, {
      text: csv,
      contentType: "text/csv; charset=utf-8",
    }),
  rollout: (version: number) => get<Rollout>(`/api/prices/${version}/rollout`),

  dispatch: (order: string, shipment: ShipmentRequest) => post<Order>(`/api/orders/${seg(order)}/shipments`, shipment),
  reject: (order: string, reason: string) => post<Order>(`/api/orders/${seg(order)}/reject`, { reason }),
  dispatchPolicy: () => get<DispatchPolicy>("/api/dispatch-policy"),
  setDispatchPolicy: (policy: DispatchPolicy) => put<DispatchPolicy>("/api/dispatch-policy", policy),

  salesReport: (filter: SalesReportFilter) => get<SalesReport>(`/api/reports/sales${query({ ...filter })}`),
  stockReport: () => get<StockReport>("/api/reports/stock"),

  /** Newest first. */
  alerts: (station?: string) => get<Alert[]>(`/api/alerts${query({ station })}`),
  alertSettings: () => get<AlertSettings>("/api/alert-settings"),
  setAlertSettings: (settings: AlertSettings) => put<AlertSettings>("/api/alert-settings", settings),
};

/** The URL of the server-sent events channel for a session token. */
export function eventsUrl(token: string): string {
  return `/api/events${query({ token })}`;
}
