// Commission settlement's API (a process of its own beside the hub; see ARCHITECTURE.md). The
// dashboard calls it across origins with the HQ session's token, which settlement checks with
// the hub. Where it listens: the address saved on the Settlement screen, else port 8090 of the
// host that serves the dashboard.

import { createHttpClient, query, seg } from "../shared/http";

const URL_KEY = "hq.settlement_url";

export function settlementUrl(): string {
  return localStorage.getItem(URL_KEY) ?? `${window.location.protocol}//${window.location.hostname}:8090`;
}

export function storeSettlementUrl(url: string | null): void {
  if (url === null || url.trim() === "") localStorage.removeItem(URL_KEY);
  else localStorage.setItem(URL_KEY, url.trim().replace(/\/+$/, ""));
}

const http = createHttpClient({ tokenKey: "hq.token", credentialCodes: [] });

const at = (path: string) => `${settlementUrl()}${path}`;

export interface SettlementStatus {
  position: number;
  head: number;
  consignment_stations: number;
}

export interface SettledStation {
  station: string;
  name: string;
}

export interface Terms {
  station: string;
  version: number;
  effective_from: string;
  /** Won per litre, by fuel grade. */
  fuel_rates: Record<string, number>;
  shop_rate_basis_points: number;
  monthly_fee_won: number;
  loss_cost_won_per_litre: number;
  created_by: string;
}

export type NewTerms = Omit<Terms, "version" | "created_by">;

export interface SettlementPeriod {
  period: string;
  first_day: string;
  last_day: string;
  status: "open" | "closed";
  closed_at: string | null;
  closed_by: string | null;
}

export interface FuelLine {
  product: string;
  terms_version: number | null;
  sales_count: number;
  volume_ml: number;
  amount_won: number;
  rate_won_per_litre: number;
  commission_won: number;
}

export interface ShopLine {
  terms_version: number | null;
  sales_count: number;
  amount_won: number;
  rate_basis_points: number;
  commission_won: number;
}

export interface DeductionLine {
  product: string;
  terms_version: number | null;
  beyond_ml: number;
  cost_won_per_litre: number;
  amount_won: number;
}

export interface AdjustmentLine {
  business_day: string;
  kind: "fuel" | "shop" | "wet_stock_loss";
  product: string | null;
  terms_version: number | null;
  sales_count: number;
  volume_ml: number;
  amount_won: number;
  commission_won: number;
}

export interface Statement {
  station: string;
  station_name: string;
  period: string;
  first_day: string;
  last_day: string;
  status: "open" | "closed";
  closed_at: string | null;
  closed_by: string | null;
  position: number;
  fuel: FuelLine[];
  shop: ShopLine[];
  fee: { terms_version: number; amount_won: number } | null;
  deductions: DeductionLine[];
  adjustments: AdjustmentLine[];
  days_without_terms: string[];
  commission_won: number;
  fee_won: number;
  deductions_won: number;
  adjustments_won: number;
  total_owed_won: number;
}

/** A link the browser opens itself (CSV, print view): the token goes in the query. */
function linkTo(path: string): string {
  const token = http.storedToken() ?? "";
  return at(`${path}${query({ token })}`);
}

export const settlement = {
  status: () => http.get<SettlementStatus>(at("/api/status")),
  stations: () => http.get<SettledStation[]>(at("/api/stations")),
  terms: () => http.get<Terms[]>(at("/api/terms")),
  addTerms: (terms: NewTerms) => http.post<Terms>(at("/api/terms"), terms),
  periods: () => http.get<SettlementPeriod[]>(at("/api/periods")),
  close: (period: string, beforeEnd: boolean) =>
    http.post<Statement[]>(at(`/api/periods/${seg(period)}/close`), { before_end: beforeEnd }),
  statements: (period: string) => http.get<Statement[]>(at(`/api/statements${query({ period })}`)),
  csvLink: (station: string, period: string) => linkTo(`/api/statements/${seg(station)}/${seg(period)}/csv`),
  printLink: (station: string, period: string) => linkTo(`/api/statements/${seg(station)}/${seg(period)}/print`),
};
