// A server-sent events channel that stays open. EventSource retries by itself after a network
// drop, but gives up for good on an HTTP error (e.g. 401 after a server restart); so on any
// error we close it, check the session (a 401 there signs the user out, see http.ts) and open a
// new one after a short pause.

import { useEffect, useRef, useState } from "preact/hooks";

const RETRY_MS = 1000;

/** What to do with each named event's data; a handler that throws skips that frame. */
export type EventHandlers = Record<string, (data: string) => void>;

/**
 * Keeps an EventSource open at `url` while the component lives. `connected` turns true with
 * the first event handled and false on an error, until the next one.
 */
export function useEventStream(
  url: string,
  handlers: EventHandlers,
  checkSession: () => Promise<unknown>,
): { connected: boolean } {
  const [connected, setConnected] = useState(false);
  // The latest handlers, so that a new closure each render does not reopen the channel.
  const current = useRef({ handlers, checkSession });
  current.current = { handlers, checkSession };
  const names = Object.keys(handlers).sort().join(" ");

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: number | undefined;
    let stopped = false;

    const open = () => {
      source = new EventSource(url);
      for (const name of names.split(" ")) {
        source.addEventListener(name, (event) => {
          try {
            current.current.handlers[name]?.((event as MessageEvent<string>).data);
            setConnected(true);
          } catch {
            // A malformed frame is skipped; the next one replaces it.
          }
        });
      }
      source.onerror = () => {
        source?.close();
        source = null;
        setConnected(false);
        if (stopped) return;
        retry = window.setTimeout(() => {
          // A 401 here signs the user out; other failures just retry later.
          current.current.checkSession().then(
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
  }, [url, names]);

  return { connected };
}
