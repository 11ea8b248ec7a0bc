// The station runtime's HTTP API (same origin, under /api): JSON types and one small client.
// Money is integer won, volume integer millilitres, times RFC 3339 UTC, days YYYY-MM-DD.

import type { StationAuditAction as AuditAction } from "./shared/audit";
import { createHttpClient, query, seg } from "./shared/http";

export type Role = "cashier" | "manager";

export interface Session {
  user: string;
  name: string;
  role: Role;
}

export interface LoginResult extends Session {
  token: string;
}

export interface Station {
  station: string;
  name: string;
  time_zone: string;
  business_day: string | null;
}

export interface Product {
  product: string;
  name: string;
  unit: "litre" | "piece";
  unit_price_won: number;
}

export interface PriceVersion {
  version: number;
  effective_at: string;
  applied_at: string | null;
  status: "in_force" | "scheduled" | "superseded";
  items: Product[];
}

export interface Shift {
  shift: string;
  cashier: string;
  business_day: string;
  opened_at: string;
  opening_float_won: number;
  expected_cash_won: number;
}

export interface ShiftReport extends Shift {
  closed_at: string | null;
  counted_cash_won: number | null;
  over_short_won: number | null;
}

export type PaymentRequest =
  | { method: "cash"; tendered_won: number }
  | { method: "card"; reference: string }
  | { method: "account"; account: string };

export type Payment =
  | { method: "cash"; tendered_won: number; change_won: number }
  | { method: "card"; reference: string }
  | { method: "account"; account: string };

export interface SaleLine {
  line_no: number;
  product: string;
  product_name: string;
  tank: number | null;
  volume_ml: number | null;
  quantity: number | null;
  unit_price_won: number;
  amount_won: number;
  price_source: "price_list" | "pump" | "manager_override";
  price_version: number;
}

export interface Sale {
  sale: string;
  receipt_no: string;
  business_day: string;
  shift: string;
  cashier: string;
  settled_at: string;
  lines: SaleLine[];
  total_won: number;
  vat_included_won: number;
  payment: Payment;
  canceled: boolean;
  cancellation: null | {
    business_day: string;
    reason: string;
    canceled_by: string;
    approved_by: string | null;
    canceled_at: string;
  };
}

export interface SaleLineRequest {
  product: string;
  volume_ml?: number;
  quantity?: number;
  tank?: number;
}

export interface SummaryRow {
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

export interface DayReport {
  business_day: string;
  closed: boolean;
  closed_by: string | null;
  products: SummaryRow[];
  net_amount_won: number;
  shifts: ShiftReport[];
}

export type PumpState = "offline" | "idle" | "nozzle_up" | "authorized" | "fueling" | "finished";

export type Preset = null | { volume: { volume_ml: number } } | { amount: { amount_won: number } };

export interface Pump {
  pump: string;
  state: PumpState;
  nozzle: number | null;
  product: string | null;
  product_name: string | null;
  unit_price_won: number | null;
  volume_ml: number;
  amount_won: number;
  preset: Preset;
  unpaid: string[];
}

export type PresetRequest = null | { volume_ml: number } | { amount_won: number };

export interface Fueling {
  fueling: string;
  pump: string;
  nozzle: number;
  product: string;
  product_name: string;
  tank: number | null;
  volume_ml: number;
  amount_won: number;
  unit_price_won: number;
  finished_at: string;
  sale: string | null;
}

export interface Tank {
  tank: number;
  product: string;
  capacity_ml: number;
  book_stock_ml: number;
  measured_ml: number | null;
  measured_at: string | null;
}

export interface Stock {
  tanks: Tank[];
  products: { product: string; book_stock_ml: number; expected_incoming_ml: number }[];
}

export interface Delivery {
  shipment: string;
  order: string;
  product: string;
  volume_ml: number;
  truck: string;
  expected_at: string | null;
  confirmed: boolean;
  confirmation: null | {
    tank: number;
    received_volume_ml: number;
    confirmed_by: string;
    confirmed_at: string;
  };
}

export interface GaugeDelivery {
  tank: number;
  product: string | null;
  started_at: string;
  ended_at: string;
  start_volume_ml: number;
  end_volume_ml: number;
  delivered_ml: number;
}

/** The core names the first state "ordered" (the contract's "placed" is accepted too). */
export type OrderStatus =
  | "ordered"
  | "placed"
  | "shipped"
  | "partially_delivered"
  | "delivered"
  | "rejected"
  | "canceled";

export interface Order {
  order: string;
  product: string;
  ordered_volume_ml: number;
  shipped_volume_ml: number;
  received_volume_ml: number;
  status: OrderStatus;
  status_reason: string | null;
  wanted_date: string;
  ordered_at: string;
  updated_at: string;
}

export interface Account {
  account: string;
  name: string;
  credit_limit_won: number;
  balance_won: number;
  available_won: number;
  opened_at: string;
}

export interface AccountDetail extends Account {
  movements: { at: string; kind: string; reference: string; amount_won: number }[];
}

export interface User {
  user: string;
  name: string;
  role: Role;
  /** A deactivated user stays listed but cannot sign in; a manager can let them back in. */
  active: boolean;
  /** Locked out after too many wrong PINs, until a manager lifts it. */
  locked_out: boolean;
  /** Wrong PINs in a row counted against the user (a manager can clear them). */
  failed_pins: number;
  /** Seconds before the next PIN check is taken, after several wrong PINs (0: now). */
  retry_after_s: number;
}

/** A manager approving at a cashier's session by id and PIN; nothing at a manager's own. */
export interface Approver {
  manager?: string;
  manager_pin?: string;
}

/** What a cashier may key in without a manager's confirmation. */
export interface Limits {
  largest_tender_won: number;
  largest_manual_volume_ml: number;
}

/** What an audit entry records (the runtime's `AuditAction`). */
export { STATION_AUDIT_ACTIONS as AUDIT_ACTIONS, type StationAuditAction as AuditAction } from "./shared/audit";

/** One entry of the audit log: who did what, when, and who approved it. */
export interface AuditEntry {
  /** Its place in the log, from 1; `before` pages back by it. */
  entry: number;
  at: string;
  action: AuditAction;
  /** Who acted or tried to: a user id as typed, which may be no user's. */
  actor: string;
  approved_by: string | null;
  /** What it concerns: a sale, a user, an account. */
  subject: string | null;
  detail: string;
}

/** The most audit entries the runtime answers in one page. */
export const AUDIT_PAGE_MAX = 1000;

export interface DeviceState {
  configured: boolean;
  state: "not_configured" | "connecting" | "ready" | "not_ready" | "disconnected";
  detail: string | null;
}

export interface LiveState {
  sync: {
    connected: boolean;
    backlog: number;
    acknowledged_through: number | null;
    /** A message from HQ this station cannot read yet (a newer schema), waiting for an upgrade. */
    held: string | null;
    /** Times the station found its history and HQ's differ. */
    divergences: number;
  };
  printer: DeviceState;
  gauge: DeviceState;
  pump_line: DeviceState;
  pumps: Pump[];
  waiting_receipts: number;
  /** Receipts set aside because they cannot be printed (a manager can print a fallback copy). */
  set_aside_receipts: number;
  revision: number;
}

/** A receipt set aside because it cannot be printed (e.g. a character outside the code page). */
export interface SetAsideReceipt {
  job: number;
  sale: string;
  receipt_no: string | null;
  /** Why the receipt was printed: `sale` or `reprint`. */
  reason: string;
  /** Why it cannot be printed, in words. */
  last_error: string | null;
  set_aside_at: string | null;
  fallback_by: string | null;
}

/** Where the station's history and HQ's were found to differ, and what was done about it. */
export interface Divergence {
  /** `up`: the station's events towards HQ; `down`: HQ's messages towards the station. */
  direction: string;
  kind: string;
  detail: string;
  detected_at: string;
}

export interface DeadLetter {
  origin: string;
  seq: number;
  code: string;
  reason: string;
  received_at: string;
}

const http = createHttpClient({
  tokenKey: "station.token",
  // A wrong manager PIN is also a 401, but it does not end the session.
  credentialCodes: ["bad_credentials"],
  backgroundAfterMs: 5_000,
});

export const { storedToken, storeToken, setUnauthenticatedHandler } = http;

const { get, post, put } = http;
const dayQuery = (day: string | null) => query({ day });

export const api = {
  login: (user: string, pin: string) => post<LoginResult>("/api/session", { user, pin }),
  session: () => get<Session>("/api/session"),
  logout: () => http.request<unknown>("DELETE", "/api/session"),

  station: () => get<Station>("/api/station"),
  products: () => get<Product[]>("/api/products"),
  prices: () => get<PriceVersion[]>("/api/prices"),

  shift: () => get<Shift | null>("/api/shift"),
  /** Every shift still open, oldest first (a manager's). */
  openShifts: () => get<Shift[]>("/api/shifts/open"),
  openShift: (opening_float_won: number) => post<Shift>("/api/shift/open", { opening_float_won }),
  closeShift: (counted_cash_won: number) =>
    post<ShiftReport>("/api/shift/close", { counted_cash_won }),

  sales: (day: string | null) => get<Sale[]>(`/api/sales${dayQuery(day)}`),
  sale: (sale: string) => get<Sale>(`/api/sales/${seg(sale)}`),
  /** `over_limit`: a manager's confirmation past the station's limits (`{}` at a manager's session). */
  settleSale: (lines: SaleLineRequest[], payment: PaymentRequest, over_limit?: Approver) =>
    post<Sale>("/api/sales", over_limit === undefined ? { lines, payment } : { lines, payment, over_limit }),
  limits: () => get<Limits>("/api/limits"),
  setLimits: (limits: Limits) => put<Limits>("/api/limits", limits),
  cancelSale: (sale: string, body: { reason: string; manager?: string; manager_pin?: string }) =>
    post<Sale>(`/api/sales/${seg(sale)}/cancel`, body),
  reprint: (sale: string) => post<{ queued: boolean; sale: Sale }>(`/api/sales/${seg(sale)}/reprint`),
  salesSummary: (day: string | null) => get<SummaryRow[]>(`/api/sales-summary${dayQuery(day)}`),
  dayReport: (day: string | null) => get<DayReport>(`/api/day-report${dayQuery(day)}`),
  closeDay: () => post<DayReport>("/api/day/close"),

  pumps: () => get<Pump[]>("/api/pumps"),
  authorize: (pump: string, preset: PresetRequest) =>
    post<Pump>(`/api/pumps/${seg(pump)}/authorize`, { preset }),
  stop: (pump: string) => post<Pump>(`/api/pumps/${seg(pump)}/stop`),
  fuelings: () => get<Fueling[]>("/api/fuelings"),
  settleFueling: (fueling: string, payment: PaymentRequest, over_limit?: Approver) =>
    post<Sale>(
      `/api/fuelings/${seg(fueling)}/settle`,
      over_limit === undefined ? { payment } : { payment, over_limit },
    ),

  stock: () => get<Stock>("/api/stock"),
  deliveries: () => get<Delivery[]>("/api/deliveries"),
  gaugeDeliveries: () => get<GaugeDelivery[]>("/api/gauge/deliveries"),
  confirmDelivery: (shipment: string, tank: number, received_volume_ml: number) =>
    post<Delivery>(`/api/deliveries/${seg(shipment)}/confirm`, { tank, received_volume_ml }),
  orders: () => get<Order[]>("/api/orders"),
  placeOrder: (product: string, volume_ml: number, wanted_date: string) =>
    post<Order>("/api/orders", { product, volume_ml, wanted_date }),
  cancelOrder: (order: string, reason: string) =>
    post<Order>(`/api/orders/${seg(order)}/cancel`, { reason }),

  accounts: () => get<Account[]>("/api/accounts"),
  account: (account: string) => get<AccountDetail>(`/api/accounts/${seg(account)}`),
  openAccount: (name: string, credit_limit_won: number) =>
    post<Account>("/api/accounts", { name, credit_limit_won }),
  /** Cash goes into the receiver's open shift; a card payment carries the terminal's approval number. */
  takePayment: (account: string, amount_won: number, payment: { method: "cash" } | { method: "card"; reference: string }) =>
    post<AccountDetail>(`/api/accounts/${seg(account)}/payments`, { amount_won, ...payment }),

  users: () => get<User[]>("/api/users"),
  addUser: (user: string, name: string, role: Role, pin: string) =>
    post<User[]>("/api/users", { user, name, role, pin }),
  changePin: (user: string, pin: string) => post<unknown>(`/api/users/${seg(user)}/pin`, { pin }),
  /** Deactivates a user (their sessions end at once) or lets them back in; answers the users. */
  setUserActive: (user: string, active: boolean) => post<User[]>(`/api/users/${seg(user)}/active`, { active }),
  liftLockout: (user: string) => post<User[]>(`/api/users/${seg(user)}/lockout/lift`),

  /** The audit log, newest first; `before` an entry number pages back. */
  audit: (filter: { action?: AuditAction | null; before?: number | null; limit?: number }) =>
    get<AuditEntry[]>(
      `/api/audit${query({
        action: filter.action,
        before: filter.before,
        limit: filter.limit === undefined ? undefined : Math.min(filter.limit, AUDIT_PAGE_MAX),
      })}`,
    ),

  status: () => get<LiveState>("/api/status"),
  deadLetters: () => get<DeadLetter[]>("/api/dead-letters"),
  divergences: () => get<Divergence[]>("/api/sync/divergences"),
  setAsideReceipts: () => get<SetAsideReceipt[]>("/api/receipts/set-aside"),
  /** Queues a copy of a set-aside receipt with '?' for what the printer cannot print. */
  printFallback: (job: number) => post<SetAsideReceipt>(`/api/receipts/${job}/fallback`),
};

/** The URL of the server-sent events channel for a session token. */
export function eventsUrl(token: string): string {
  return `/api/events?token=${encodeURIComponent(token)}`;
}
