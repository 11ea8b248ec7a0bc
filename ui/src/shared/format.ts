// Display and parsing of won, litres, times and days, for both apps. Amounts and volumes stay
// integers (won, millilitres); no floating point touches them.

import type { Lang } from "./i18n";

const grouping = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 12345 -> "12,345" */
export function groupDigits(n: number): string {
  return grouping.format(n);
}

/** Won with thousands separators: "12,345원" in Korean, "₩12,345" in English. */
export function formatWon(won: number, lang: Lang): string {
  const sign = won < 0 ? "-" : "";
  const digits = groupDigits(Math.abs(won));
  return lang === "ko" ? `${sign}${digits}원` : `${sign}₩${digits}`;
}

/** Millilitres as litres with three decimals: 18182 -> "18.182". */
export function formatLitres(ml: number): string {
  const sign = ml < 0 ? "-" : "";
  const abs = Math.abs(ml);
  const whole = Math.trunc(abs / 1000);
  const fraction = String(abs % 1000).padStart(3, "0");
  return `${sign}${groupDigits(whole)}.${fraction}`;
}

/** Millilitres as plain litres for a file (no grouping): 1234567 -> "1234.567". */
export function litresForFile(ml: number): string {
  const sign = ml < 0 ? "-" : "";
  const abs = Math.abs(ml);
  return `${sign}${Math.trunc(abs / 1000)}.${String(abs % 1000).padStart(3, "0")}`;
}

/** An integer in tenths with its one decimal, ungrouped: 1234 -> "123.4" (e.g. days of cover). */
export function formatTenths(tenths: number): string {
  const sign = tenths < 0 ? "-" : "";
  const abs = Math.abs(tenths);
  return `${sign}${Math.trunc(abs / 10)}.${abs % 10}`;
}

/** "18.182 L" */
export function formatLitresUnit(ml: number): string {
  return `${formatLitres(ml)} L`;
}

/** Parses litres typed by a user (up to three decimals, commas allowed) into millilitres. */
export function parseLitres(text: string): number | null {
  const cleaned = text.replace(/[,\s]/g, "");
  const match = /^(\d+)(?:\.(\d{0,3}))?$/.exec(cleaned);
  if (match === null) return null;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? "").padEnd(3, "0"));
  const ml = whole * 1000 + fraction;
  return Number.isSafeInteger(ml) ? ml : null;
}

/** Parses a whole amount of won (commas and a trailing 원 or leading ₩ allowed). */
export function parseWon(text: string): number | null {
  const cleaned = text.replace(/[,\s₩원]/g, "");
  if (!/^\d+$/.test(cleaned)) return null;
  const won = Number(cleaned);
  return Number.isSafeInteger(won) ? won : null;
}

/**
 * The amount for a volume at a price per litre, rounded half up to the won: the station's one
 * rounding rule, used here only to preview a total before the server prices the sale.
 */
export function amountForVolume(volumeMl: number, unitPriceWon: number): number {
  const milliwon = BigInt(volumeMl) * BigInt(unitPriceWon);
  const half = milliwon >= 0n ? 500n : -500n;
  return Number((milliwon + half) / 1000n);
}

/**
 * A timestamp in the station's time zone, e.g. "2026-11-26 10:15", or with `seconds`
 * "2026-11-26 10:15:07" (for logs, where several entries share a minute).
 */
export function formatTime(iso: string | null, timeZone: string, { seconds = false } = {}): string {
  if (iso === null) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" as const } : {}),
    hourCycle: "h23",
  }).formatToParts(date);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const minute = `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`;
  return seconds ? `${minute}:${part("second")}` : minute;
}

/** Today's date (YYYY-MM-DD) in a time zone, shifted by whole days. */
export function dateInZone(timeZone: string, plusDays = 0): string {
  const date = new Date(Date.now() + plusDays * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(date);
}

/** The browser's own time zone (where a `datetime-local` input's value is read). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * A `datetime-local` input's value ("2026-11-26T10:15", the browser's local time) as an RFC 3339
 * UTC timestamp ("2026-11-26T01:15:00Z"), or null when it is empty or not a time.
 */
export function localInputToUtc(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A day (YYYY-MM-DD) shifted by whole days, on the calendar (no time zone involved). */
export function addDays(day: string, days: number): string {
  const [year, month, date] = day.split("-").map(Number);
  const shifted = new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, (date ?? 1) + days));
  return shifted.toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (both YYYY-MM-DD): 0 for the same day, negative backwards. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
