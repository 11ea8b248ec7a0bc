// What every screen needs from the shell: language, session, live state and error reporting.

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { LiveState, Product, Session, Station } from "./api";
import type { Translate } from "./i18n";
import type { Lang } from "./shared/i18n";

export interface AppContextValue {
  lang: Lang;
  t: Translate;
  session: Session;
  station: Station | null;
  /** The station's time zone (Asia/Seoul until the station is known). */
  timeZone: string;
  /** The price list in force. */
  products: Product[];
  live: LiveState | null;
  /** Runs an API action: clears the error banner first, shows the error if it fails. */
  run: <T>(action: () => Promise<T>) => Promise<{ ok: true; value: T } | { ok: false; code: string }>;
  /** Shows a message that is not an API error (e.g. input the UI cannot send). */
  showProblem: (message: string) => void;
  notify: (message: string) => void;
  refreshStation: () => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === null) throw new Error("useApp outside the signed-in shell");
  return value;
}
