// The HQ dashboard's translator, over the shared machinery: Korean by default, English by the
// switch, the choice kept in localStorage; the hub's error codes as texts.

import {
  languageSetting,
  retryAfterSeconds,
  texts,
  type RefineError,
  type Translate as TranslateKey,
} from "../../shared/i18n";
import { en, type HqTextKey } from "./en";
import { ko } from "./ko";

export type TextKey = HqTextKey;

export type Translate = TranslateKey<TextKey>;

/** The seconds to wait, when the hub's "too soon" message says them. */
const refine: RefineError<TextKey> = (code, serverMessage) => {
  if (code !== "login_too_soon") return null;
  const seconds = retryAfterSeconds(serverMessage);
  return seconds === null ? null : { key: "error.login_too_soon_wait", params: { seconds } };
};

export const { translator, isTextKey, errorText } = texts<TextKey>({ en, ko }, refine);

const language = languageSetting("hq.lang");
export const storedLang = language.stored;
export const storeLang = language.store;

/**
 * Codes whose text is general while the hub's message says what exactly (which field, which
 * order, which line): the banner shows that message under the text.
 */
const SPECIFIC_MESSAGE_CODES: ReadonlySet<string> = new Set([
  "invalid_input",
  "invalid_price_book",
  "order_not_open",
  "conflict",
  "forbidden",
  "empty_price_version",
]);

export function showsServerMessage(code: string): boolean {
  return SPECIFIC_MESSAGE_CODES.has(code) || code.startsWith("unknown_");
}
