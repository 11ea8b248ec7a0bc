// When a new price version takes effect: now, or at a local time the user picks (sent as UTC).

import { useState } from "preact/hooks";
import { localInputToUtc } from "../../../shared/format";
import { useHq } from "../../context";

export interface EffectiveAt {
  scheduled: boolean;
  setScheduled: (scheduled: boolean) => void;
  /** The `datetime-local` value, the browser's local time. */
  local: string;
  setLocal: (local: string) => void;
  /** False while "scheduled" is chosen without a valid time. */
  valid: boolean;
  /** What to send: null for "now", else the scheduled time as RFC 3339 UTC. */
  utc: string | null;
}

export function useEffectiveAt(): EffectiveAt {
  const [scheduled, setScheduled] = useState(false);
  const [local, setLocal] = useState("");
  const utc = scheduled ? localInputToUtc(local) : null;
  return { scheduled, setScheduled, local, setLocal, valid: !scheduled || utc !== null, utc };
}

export function EffectiveAtField(props: { effective: EffectiveAt }) {
  const { t } = useHq();
  const { effective } = props;
  return (
    <fieldset class="effective-at">
      <legend>{t("prices.effective")}</legend>
      <label class="radio">
        <input
          type="radio"
          name="effective-at"
          data-testid="price-effective-now"
          checked={!effective.scheduled}
          onChange={() => effective.setScheduled(false)}
        />
        {t("prices.effective_now")}
      </label>
      <label class="radio">
        <input
          type="radio"
          name="effective-at"
          data-testid="price-effective-scheduled"
          checked={effective.scheduled}
          onChange={() => effective.setScheduled(true)}
        />
        {t("prices.effective_scheduled")}
      </label>
      <input
        type="datetime-local"
        data-testid="price-effective-at"
        aria-label={t("prices.effective_time")}
        value={effective.local}
        disabled={!effective.scheduled}
        onInput={(e) => effective.setLocal(e.currentTarget.value)}
      />
    </fieldset>
  );
}
