// Live updates from the hub: each `changed` event on `/api/events` names topics; each topic has a
// revision here that goes up when it is named, and screens load again what they show when the
// revision of one of their topics goes up. No polling: the channel reopens itself after an error
// (shared/events.ts) and the hub names every topic right after each connect.

import { useState } from "preact/hooks";
import { api, eventsUrl, TOPICS, type Topic } from "./api";
import { useEventStream } from "../shared/events";

export type Revisions = Readonly<Record<Topic, number>>;

const NONE: Revisions = Object.fromEntries(TOPICS.map((topic) => [topic, 0])) as Record<Topic, number>;

function isTopic(name: unknown): name is Topic {
  return TOPICS.some((topic) => topic === name);
}

export function useRevisions(token: string): { revisions: Revisions; connected: boolean } {
  const [revisions, setRevisions] = useState<Revisions>(NONE);
  const { connected } = useEventStream(
    eventsUrl(token),
    {
      changed: (data) => {
        const { topics } = JSON.parse(data) as { topics: unknown[] };
        const named = topics.filter(isTopic);
        if (named.length === 0) return;
        setRevisions((before) => {
          const after = { ...before };
          for (const topic of named) after[topic] += 1;
          return after;
        });
      },
    },
    () => api.me(),
  );
  return { revisions, connected };
}
