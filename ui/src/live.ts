// The live state pushed by the runtime over server-sent events (`/api/events`, event `live`),
// on a channel that reopens itself (shared/events.ts).

import { useState } from "preact/hooks";
import { api, eventsUrl, type LiveState } from "./api";
import { useEventStream } from "./shared/events";

export function useLiveState(token: string): { live: LiveState | null; connected: boolean } {
  const [live, setLive] = useState<LiveState | null>(null);
  const { connected } = useEventStream(
    eventsUrl(token),
    { live: (data) => setLive(JSON.parse(data) as LiveState) },
    () => api.session(),
  );
  return { live, connected };
}
