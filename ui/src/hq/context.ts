// What every dashboard screen gets from the shell: language, the signed-in user and what they
// may do, the product master, live revisions and error reporting.

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Lang } from "../shared/i18n";
import type { Me, Product } from "./api";
import type { Translate } from "./i18n";
import type { Revisions } from "./live";
import type { Permission } from "./roles";

export type RunResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface HqContextValue {
  lang: Lang;
  t: Translate;
  me: Me;
  /** Whether the signed-in user's role may do this (the hub checks it again). */
  can: (permission: Permission) => boolean;
  /** Where times are shown: the browser's time zone, as `datetime-local` inputs read it. */
  timeZone: string;
  /** The product master, kept current. */
  products: Product[];
  productName: (product: string) => string;
  /** Loads the product master again (after saving a product). */
  refreshProducts: () => void;
  revisions: Revisions;
  /** Runs an action: clears the error banner first, shows the API's error if it fails. */
  run: <T>(action: () => Promise<T>) => Promise<RunResult<T>>;
  /** Shows an error in the banner without clearing anything first (a load that failed). */
  report: (error: unknown) => void;
  /** Shows a message in the banner that is not an API error (input the page cannot send). */
  showProblem: (message: string) => void;
  notify: (message: string) => void;
}

export const HqContext = createContext<HqContextValue | null>(null);

export function useHq(): HqContextValue {
  const value = useContext(HqContext);
  if (value === null) throw new Error("useHq outside the signed-in shell");
  return value;
}
