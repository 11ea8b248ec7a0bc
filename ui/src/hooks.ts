// Hooks shared by the POS screens: loading data on mount, on a revision or by polling.

import { useEffect, useState, type Dispatch, type StateUpdater } from "preact/hooks";
import { useApp } from "./context";

/**
 * Loads a value on mount, again whenever one of `deps` changes (pass the live revision to follow
 * the station) and, with `pollMs`, every so often. A failed load keeps the last value; a loader
 * that wants another fallback catches its own error.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  initial: T,
  deps: readonly unknown[],
  pollMs?: number,
): [T, Dispatch<StateUpdater<T>>] {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    const refresh = () => void load().then(setValue, () => undefined);
    refresh();
    if (pollMs === undefined) return;
    const timer = window.setInterval(refresh, pollMs);
    return () => window.clearInterval(timer);
  }, deps);
  return [value, setValue];
}

/** Loads a value once when the screen opens; a failure shows in the error banner. */
export function useLoadOnce<T>(load: () => Promise<T>, initial: T): [T, Dispatch<StateUpdater<T>>] {
  const { run } = useApp();
  const [value, setValue] = useState(initial);
  useEffect(() => {
    void run(load).then((result) => result.ok && setValue(result.value));
  }, [run]);
  return [value, setValue];
}
