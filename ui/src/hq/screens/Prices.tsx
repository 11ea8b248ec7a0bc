// Prices: the product master, a new price version (edited as a table from the prices in force,
// or imported from a CSV price book) in force now or at a scheduled time, each version's
// roll-out to the stations, and the history of versions.

import { useState } from "preact/hooks";
import { ChoiceButton } from "../../shared/components/form";
import { api, type PriceVersion } from "../api";
import { useHq } from "../context";
import { useTopicData } from "../hooks";
import { EffectiveAtField, useEffectiveAt } from "./prices/EffectiveAt";
import { PriceBookImport } from "./prices/PriceBookImport";
import { PriceEditor } from "./prices/PriceEditor";
import { Products } from "./prices/Products";
import { Versions } from "./prices/Versions";

/** The version in force: the newest whose effective time has come (the list is newest first). */
export function versionInForce(versions: readonly PriceVersion[], now = Date.now()): PriceVersion | null {
  return versions.find((version) => Date.parse(version.effective_at) <= now) ?? null;
}

export function PricesScreen() {
  const { t, can } = useHq();
  const { data: versions, reload } = useTopicData(() => api.prices(), ["prices"], []);
  const [mode, setMode] = useState<"table" | "csv">("table");
  const [selected, setSelected] = useState<number | null>(null);
  const effective = useEffectiveAt();
  const current = versionInForce(versions ?? []);

  const published = (version: PriceVersion) => {
    setSelected(version.version);
    reload();
  };

  return (
    <div class="prices">
      <h1>{t("prices.title")}</h1>
      <Products />
      {can("publish_prices") ? (
        <section class="card">
          <div class="toolbar">
            <h2>{t("prices.new_version")}</h2>
            <div class="choices" role="group" aria-label={t("prices.new_version")}>
              <ChoiceButton chip testId="price-mode-table" active={mode === "table"} onClick={() => setMode("table")}>
                {t("prices.mode_table")}
              </ChoiceButton>
              <ChoiceButton chip testId="price-mode-csv" active={mode === "csv"} onClick={() => setMode("csv")}>
                {t("prices.mode_csv")}
              </ChoiceButton>
            </div>
          </div>
          <EffectiveAtField effective={effective} />
          {versions === null ? (
            <p class="muted">{t("common.loading")}</p>
          ) : mode === "table" ? (
            <PriceEditor current={current} effective={effective} onPublished={published} />
          ) : (
            <PriceBookImport effective={effective} onPublished={published} />
          )}
        </section>
      ) : null}
      <Versions
        versions={versions}
        current={current?.version ?? null}
        selected={selected ?? versions?.[0]?.version ?? null}
        onSelect={setSelected}
      />
    </div>
  );
}
