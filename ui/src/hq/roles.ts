// What each HQ role may change (everyone reads everything). The hub enforces it; the dashboard
// only hides or disables what a role may not do, so that nobody is offered a certain refusal.

import type { Role } from "./api";

export type Permission =
  | "manage_users"
  | "register_stations"
  | "set_alert_settings"
  | "edit_products"
  | "publish_prices"
  | "dispatch_orders"
  | "set_dispatch_policy";

const GRANTED: Record<Exclude<Role, "administrator">, readonly Permission[]> = {
  pricing: ["edit_products", "publish_prices"],
  logistics: ["dispatch_orders", "set_dispatch_policy"],
  analyst: [],
};

/** Whether a role may do something; an administrator may do everything. */
export function can(role: Role, permission: Permission): boolean {
  return role === "administrator" || GRANTED[role].includes(permission);
}
