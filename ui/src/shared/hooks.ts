// Hooks both apps use.

import { useState } from "preact/hooks";

/** Runs one action at a time: `busy` while it runs; a call made meanwhile is dropped. */
export function useBusy(): [boolean, (action: () => Promise<unknown>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const whileBusy = async (action: () => Promise<unknown>) => {
    if (busy) return;
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  };
  return [busy, whileBusy];
}
