// A label and a won amount on one line (totals and change); data-won carries the number.

import { useApp } from "../context";
import { formatWon } from "../shared/format";

export function AmountLine(props: { class: string; label: string; won: number; testId: string }) {
  const { lang } = useApp();
  return (
    <div class={props.class}>
      <span>{props.label}</span>
      <strong data-testid={props.testId} data-won={props.won}>
        {formatWon(props.won, lang)}
      </strong>
    </div>
  );
}
