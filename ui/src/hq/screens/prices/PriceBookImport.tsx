// A new price version from a CSV price book (a file or pasted text), sent to the hub as it is.
// A price book with any bad line is refused whole: every bad line is listed here and nothing is
// published.

import { useState } from "preact/hooks";
import { ApiError, type ErrorLine } from "../../../shared/http";
import { useBusy } from "../../../shared/hooks";
import { api, type PriceVersion } from "../../api";
import { useHq } from "../../context";
import type { EffectiveAt } from "./EffectiveAt";

export function PriceBookImport(props: { effective: EffectiveAt; onPublished: (version: PriceVersion) => void }) {
  const { t, run, notify, showProblem } = useHq();
  const [text, setText] = useState("");
  const [lines, setLines] = useState<readonly ErrorLine[]>([]);
  const [busy, whileBusy] = useBusy();

  const readFile = async (file: File | undefined) => {
    if (file === undefined) return;
    setLines([]);
    setText(await file.text());
  };

  const publish = () =>
    whileBusy(async () => {
      const { valid, utc: effectiveAt } = props.effective;
      if (!valid) {
        showProblem(t("prices.need_time"));
        return;
      }
      if (text.trim() === "") {
        showProblem(t("prices.csv_empty"));
        return;
      }
      setLines([]);
      const result = await run(() => api.publishPriceBook(text, effectiveAt));
      if (result.ok) {
        notify(t("prices.published", { version: result.value.version }));
        setText("");
        props.onPublished(result.value);
      } else if (result.error instanceof ApiError) {
        setLines(result.error.lines);
      }
    });

  return (
    <div class="price-book stack">
      <p class="muted">{t("prices.csv_help")}</p>
      <label class="field">
        <span>{t("prices.csv_file")}</span>
        <input
          type="file"
          accept=".csv,text/csv"
          data-testid="price-csv-file"
          onChange={(e) => void readFile(e.currentTarget.files?.[0])}
        />
      </label>
      <label class="field">
        <span>{t("prices.csv_text")}</span>
        <textarea
          data-testid="price-csv-text"
          rows={10}
          spellcheck={false}
          placeholder={"product,unit_price_won\nCD1001,1689"}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      {lines.length === 0 ? null : (
        <div class="csv-errors" role="alert" data-testid="price-csv-errors" data-count={lines.length}>
          <strong>{t("prices.csv_errors", { count: lines.length })}</strong>
          <ul>
            {lines.map((line) => (
              <li key={line.line} data-testid={`price-csv-error-${line.line}`}>
                {t("prices.csv_line", { line: line.line })}: {line.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div>
        <button
          type="button"
          class="primary"
          data-testid="price-csv-publish"
          disabled={busy}
          onClick={() => void publish()}
        >
          {t("prices.csv_publish")}
        </button>
      </div>
    </div>
  );
}
