// What a station's audit entry records: the runtime's `AuditAction`, read by the POS's audit log
// and by HQ's copy of every station's log.

export const STATION_AUDIT_ACTIONS = [
  "login",
  "login_failed",
  "locked_out",
  "lockout_lifted",
  "manager_approval",
  "price_override",
  "sale_canceled",
  "account_payment",
  "user_added",
  "pin_changed",
  "user_deactivated",
  "user_reactivated",
  "receipt_reprinted",
  "receipt_fallback_printed",
] as const;

export type StationAuditAction = (typeof STATION_AUDIT_ACTIONS)[number];
