// Display and parsing of won and litres. Amounts and volumes stay integers (won, millilitres);
// no floating point touches them.

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
