// The translator both apps use: dictionaries per language checked for parity at compile time,
// `{name}` parameters, error codes to texts, the language kept in localStorage, and the texts
// both apps share. Each app adds its own texts (POS: ../i18n.ts, HQ: ../hq/i18n/).

export type Lang = "ko" | "en";

export const LANGS: readonly Lang[] = ["ko", "en"];

export type TextParams = Record<string, string | number>;

export type Translate<Key extends string> = (key: Key, params?: TextParams) => string;

/**
 * An app's texts in every language. An app writes its English texts `as const` and its Korean
 * ones as `Record<keyof typeof en, string>`, so a key missing in one language does not compile.
 */
export type Dictionaries<Key extends string> = Record<Lang, Readonly<Record<Key, string>>>;

/** Puts `params` into a text's `{name}` places. */
export function fillParams(text: string, params?: TextParams): string {
  if (params === undefined) return text;
  let filled = text;
  for (const [name, value] of Object.entries(params)) filled = filled.replaceAll(`{${name}}`, String(value));
  return filled;
}

/** The texts of an app, in one language and read from anywhere. */
export interface Texts<Key extends string> {
  translator: (lang: Lang) => Translate<Key>;
  /** Whether a key built at run time (e.g. from a code the server sent) has a text. */
  isTextKey: (key: string) => key is Key;
  /**
   * The translated message for an API error code (`error.<code>`), or the server's own message
   * for a code the app has no text for. `refine` picks a more precise text from the server's
   * message when it tells cases apart (e.g. the seconds to wait).
   */
  errorText: (lang: Lang, code: string, serverMessage: string) => string;
}

export type RefineError<Key extends string> = (
  code: string,
  serverMessage: string,
) => { key: Key; params?: TextParams } | null;

export function texts<Key extends string>(dictionaries: Dictionaries<Key>, refine?: RefineError<Key>): Texts<Key> {
  const isTextKey = (key: string): key is Key => key in dictionaries.en;
  const translator =
    (lang: Lang): Translate<Key> =>
    (key, params) =>
      fillParams(dictionaries[lang][key], params);
  const errorText = (lang: Lang, code: string, serverMessage: string) => {
    const refined = refine?.(code, serverMessage) ?? null;
    if (refined !== null) return translator(lang)(refined.key, refined.params);
    const key = `error.${code}`;
    return isTextKey(key) ? dictionaries[lang][key] : serverMessage;
  };
  return { translator, isTextKey, errorText };
}

/** The seconds to wait in a "… try again in 4 s" message, if it says. */
export function retryAfterSeconds(serverMessage: string): number | null {
  const match = /\bin (\d+) ?s\b/.exec(serverMessage);
  return match === null ? null : Number(match[1]);
}

/** The language chosen on this browser, kept under an app's own key (Korean by default). */
export function languageSetting(storageKey: string): { stored: () => Lang; store: (lang: Lang) => void } {
  return {
    stored: () => (localStorage.getItem(storageKey) === "en" ? "en" : "ko"),
    store: (lang) => localStorage.setItem(storageKey, lang),
  };
}

/** Texts both apps use. */
export const commonEn = {
  "lang.ko": "한국어",
  "lang.en": "English",

  "device.not_configured": "not configured",
  "device.connecting": "connecting",
  "device.ready": "ready",
  "device.not_ready": "not ready",
  "device.disconnected": "disconnected",
  "device.unknown": "unknown",

  "common.close": "Close",
  "common.cancel": "Cancel",
  "common.confirm": "Confirm",
  "common.save": "Save",
  "common.refresh": "Refresh",
  "common.none": "None",
  "common.product": "Product",
  "common.litres": "Litres",
  "common.amount": "Amount",
  "common.total": "Total",
  "common.time": "Time",
  "common.status": "Status",
  "common.name": "Name",
  "common.day": "Business day",
  "common.empty": "Nothing to show.",
  "common.yes": "Yes",
  "common.no": "No",
  "common.loading": "Loading…",
  "common.done": "Done",

  "unit.litre": "per litre",
  "unit.piece": "per piece",

  "error.title": "Error",
  "session.ended_title": "Signed out",
  "error.invalid_input": "Some input is missing or not valid.",
  "error.unknown_product": "Unknown product.",
  "error.unknown_order": "Unknown order.",
  "error.unknown_shipment": "Unknown shipment.",
  "error.unknown_user": "Unknown user.",
  "error.user_exists": "A user with this ID already exists.",
} as const;

export type CommonTextKey = keyof typeof commonEn;

export const commonKo: Record<CommonTextKey, string> = {
  "lang.ko": "한국어",
  "lang.en": "English",

  "device.not_configured": "미설정",
  "device.connecting": "연결 중",
  "device.ready": "준비됨",
  "device.not_ready": "준비 안 됨",
  "device.disconnected": "연결 끊김",
  "device.unknown": "알 수 없음",

  "common.close": "닫기",
  "common.cancel": "취소",
  "common.confirm": "확인",
  "common.save": "저장",
  "common.refresh": "새로 고침",
  "common.none": "없음",
  "common.product": "상품",
  "common.litres": "리터",
  "common.amount": "금액",
  "common.total": "합계",
  "common.time": "시각",
  "common.status": "상태",
  "common.name": "이름",
  "common.day": "영업일",
  "common.empty": "표시할 내용이 없습니다.",
  "common.yes": "예",
  "common.no": "아니요",
  "common.loading": "불러오는 중…",
  "common.done": "완료",

  "unit.litre": "리터당",
  "unit.piece": "개당",

  "error.title": "오류",
  "session.ended_title": "로그아웃됨",
  "error.invalid_input": "입력값이 없거나 올바르지 않습니다.",
  "error.unknown_product": "알 수 없는 상품입니다.",
  "error.unknown_order": "알 수 없는 주문입니다.",
  "error.unknown_shipment": "알 수 없는 배송입니다.",
  "error.unknown_user": "알 수 없는 사용자입니다.",
  "error.user_exists": "같은 ID의 사용자가 이미 있습니다.",
};
