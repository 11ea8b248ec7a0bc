// The live state pushed by the runtime over server-sent events (`/api/events`, event `live`).
// EventSource retries by itself after a network drop, but gives up for good on an HTTP error
// (e.g. 401 after a runtime restart); so on any error we close it, check the session (a 401
// there signs the user out) and open a new one after a short pause.

import { useEffect, useState } from "preact/hooks";
import { api, eventsUrl, type LiveState } from "./api";

const RETRY_MS = 1000;

export function useLiveState(token: string): { live: LiveState | null; connected: boolean } {
  const [live, setLive] = useState<LiveState | null>(null);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: number | undefined;
    let stopped = false;

    const open = () => {
      source = new EventSource(eventsUrl(token));
      source.addEventListener("live", (event) => {
        try {
          setLive(JSON.parse((event as MessageEvent<string>).data) as LiveState);
          setConnected(true);
        } catch {
          // A malformed frame is skipped; the next one replaces it.
        }
      });
      source.onerror = () => {
        source?.close();
        source = null;
        setConnected(false);
        if (stopped) return;
        retry = window.setTimeout(() => {
          // A 401 here signs the user out (see api.ts); other failures just retry later.
          api.session().then(
            () => !stopped && open(),
            () => !stopped && (retry = window.setTimeout(open, RETRY_MS)),
          );
        }, RETRY_MS);
      };
    };
    open();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      source?.close();
    };
  }, [token]);

  return { live, connected };
}
