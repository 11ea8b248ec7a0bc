// A new price version edited as a table: it starts from the prices in force; prices are changed
// in place and products of the master added. Every row is sent, changed or not, so the version
// states the whole price list.

import { useMemo, useState } from "preact/hooks";
import { Field } from "../../../shared/components/form";
import { formatWon, parseWon } from "../../../shared/format";
import { useBusy } from "../../../shared/hooks";
import { api, type NewPrice, type PriceVersion, type Unit } from "../../api";
import { ReportTable, type ReportColumn } from "../../components/ReportTable";
import { useHq } from "../../context";
import type { EffectiveAt } from "./EffectiveAt";

interface DraftRow {
  product: string;
  name: string;
  unit: Unit;
  /** The price the row started from; null for a product added in this draft. */
  base: number | null;
  text: string;
}

interface Draft {
  /** The version the draft started from. */
  from: number | null;
  rows: DraftRow[];
}

function draftFrom(version: PriceVersion | null): Draft {
  return {
    from: version?.version ?? null,
    rows: (version?.items ?? []).map((item) => ({
      product: item.product,
      name: item.name,
      unit: item.unit,
      base: item.unit_price_won,
      text: String(item.unit_price_won),
    })),
  };
}

export function PriceEditor(props: {
  current: PriceVersion | null;
  effective: EffectiveAt;
  onPublished: (version: PriceVersion) => void;
}) {
  const { t, lang, products, run, notify, showProblem } = useHq();
  const [draft, setDraft] = useState(() => draftFrom(props.current));
  const [adding, setAdding] = useState("");
  const [busy, whileBusy] = useBusy();

  const [search, setSearch] = useState("");
  const parsed = draft.rows.map((row) => parseWon(row.text));
  const changed = draft.rows.filter((row, index) => parsed[index] !== row.base).length;
  // A price book holds up to 5,000 products: found by id or name, drawn 200 at a time.
  const shown = useMemo(() => {
    const text = search.trim().toLowerCase();
    return text === ""
      ? draft.rows
      : draft.rows.filter((row) => row.product.toLowerCase().includes(text) || row.name.toLowerCase().includes(text));
  }, [draft, search]);
  const addable = useMemo(
    () => products.filter((product) => !draft.rows.some((row) => row.product === product.product)),
    [products, draft],
  );

  const setText = (product: string, text: string) =>
    setDraft((before) => ({
      ...before,
      rows: before.rows.map((row) => (row.product === product ? { ...row, text } : row)),
    }));

  const add = () => {
    const product = addable.find((p) => p.product === adding);
    if (product === undefined) return;
    setDraft((before) => ({
      ...before,
      rows: [
        ...before.rows,
        { product: product.product, name: product.name, unit: product.unit, base: null, text: "" },
      ],
    }));
    setAdding("");
  };

  const remove = (product: string) =>
    setDraft((before) => ({ ...before, rows: before.rows.filter((row) => row.product !== product) }));

  const publish = () =>
    whileBusy(async () => {
      const { valid, utc: effectiveAt } = props.effective;
      if (!valid) {
        showProblem(t("prices.need_time"));
        return;
      }
      if (draft.rows.length === 0) {
        showProblem(t("prices.need_rows"));
        return;
      }
      const prices: NewPrice[] = [];
      for (const [index, row] of draft.rows.entries()) {
        const won = parsed[index];
        if (won === null || won === undefined) {
          showProblem(t("prices.bad_price", { product: row.product }));
          return;
        }
        prices.push({ product: row.product, unit_price_won: won });
      }
      const result = await run(() => api.publishPrices(prices, effectiveAt));
      if (!result.ok) return;
      notify(t("prices.published", { version: result.value.version }));
      setDraft(draftFrom(result.value));
      props.onPublished(result.value);
    });

  const columns: ReportColumn<DraftRow>[] = [
    { header: t("common.product"), cell: (row) => <span class="mono">{row.product}</span> },
    { header: t("common.name"), cell: (row) => row.name },
    { header: t("products.unit"), cell: (row) => t(`unit.${row.unit}`) },
    {
      header: t("prices.current_price"),
      num: true,
      cell: (row) => (row.base === null ? t("prices.added") : formatWon(row.base, lang)),
    },
    {
      header: t("prices.new_price"),
      num: true,
      cell: (row) => (
        <input
          class="price-input"
          data-testid={`price-edit-${row.product}`}
          inputMode="numeric"
          aria-label={t("prices.new_price_of", { product: row.name })}
          aria-invalid={parseWon(row.text) === null ? true : undefined}
          value={row.text}
          onInput={(e) => setText(row.product, e.currentTarget.value)}
        />
      ),
    },
    {
      header: "",
      cell: (row) =>
        row.base === null ? (
          <button
            type="button"
            class="icon"
            data-testid={`price-remove-${row.product}`}
            aria-label={t("prices.remove_row", { product: row.name })}
            onClick={() => remove(row.product)}
          >
            ×
          </button>
        ) : null,
    },
  ];

  // Someone published a version that came into force after this draft began.
  const newer = props.current !== null && props.current.version > (draft.from ?? 0);

  return (
    <div class="price-editor">
      {newer && props.current !== null ? (
        <p class="warn" data-testid="price-newer">
          {t("prices.newer_in_force", { version: props.current.version })}
        </p>
      ) : null}
      <div class="filters">
        <Field label={t("prices.search")}>
          <input
            type="search"
            data-testid="price-search"
            placeholder={t("prices.search_placeholder")}
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </Field>
      </div>
      <ReportTable
        testId="price-editor-table"
        columns={columns}
        rows={shown}
        rowKey={(row) => row.product}
        row={(row) => {
          const changed = parseWon(row.text) !== row.base;
          return {
            testId: `price-row-${row.product}`,
            "data-changed": changed,
            class: changed ? "changed" : undefined,
          };
        }}
        windowKey={search}
      />
      <div class="row-form">
        <label class="field">
          <span>{t("prices.add_product")}</span>
          <select data-testid="price-add-product" value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
            <option value="">{t("prices.choose_product")}</option>
            {addable.map((product) => (
              <option key={product.product} value={product.product}>
                {product.product} · {product.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" data-testid="price-add" disabled={adding === ""} onClick={add}>
          {t("prices.add")}
        </button>
        <span class="spacer" />
        <span class="muted" data-testid="price-changed-count" data-count={changed}>
          {t("prices.changed_count", { count: changed })}
        </span>
        <button type="button" data-testid="price-reset" onClick={() => setDraft(draftFrom(props.current))}>
          {t("prices.reset")}
        </button>
        <button
          type="button"
          class="primary"
          data-testid="price-publish"
          disabled={busy}
          onClick={() => void publish()}
        >
          {t("prices.publish")}
        </button>
      </div>
    </div>
  );
}
