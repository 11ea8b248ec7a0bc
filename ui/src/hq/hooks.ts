// Loading what a screen shows, again whenever one of its topics changes (see live.ts).

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Topic } from "./api";
import { useHq } from "./context";

/**
 * Loads a value when the screen opens, whenever one of `deps` changes, whenever a `changed`
 * event names one of `topics`, and on `reload()`. Only the latest answer is kept; a failed load
 * keeps the last value and shows the error in the banner. `data` is null until the first answer;
 * `setData` puts in what an action's answer already says.
 */
export function useTopicData<T>(
  load: () => Promise<T>,
  topics: readonly Topic[],
  deps: readonly unknown[],
): { data: T | null; setData: (value: T) => void; reload: () => void } {
  const { revisions, report } = useHq();
  const [data, setData] = useState<T | null>(null);
  const [reloads, setReloads] = useState(0);
  const latest = useRef(0);
  const revision = topics.map((topic) => revisions[topic]).join(",");

  useEffect(() => {
    const mine = ++latest.current;
    load().then(
      (value) => mine === latest.current && setData(value),
      (error: unknown) => mine === latest.current && report(error),
    );
  }, [...deps, revision, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const put = useCallback((value: T) => {
    // An answer still on its way was asked before this value was known.
    latest.current += 1;
    setData(value);
  }, []);
  return { data, setData: put, reload };
}
