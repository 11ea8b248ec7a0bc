// Network stock: by product and by station tank, with days of cover; the tanks running low; and
// the wet-stock variances over their limit.

import { useMemo, useState } from "preact/hooks";
import { Field } from "../../shared/components/form";
import { formatTenths } from "../../shared/format";
import { api, type ProductStock, type StockRow } from "../api";
import { ReportTable, litresColumn, type ReportColumn } from "../components/ReportTable";
import { StationLink } from "../components/StationLink";
import { VarianceTable } from "../components/VarianceTable";
import { useHq } from "../context";
import { useTopicData } from "../hooks";

/** Book stock as a whole per cent of capacity (display only). */
function fillPercent(bookMl: number, capacityMl: number): string {
  return capacityMl <= 0 ? "—" : `${Math.floor((bookMl * 100) / capacityMl)} %`;
}

function cover(tenths: number | null): string {
  return tenths === null ? "—" : formatTenths(tenths);
}

export function StockScreen() {
  const { t } = useHq();
  const { data: report } = useTopicData(() => api.stockReport(), ["stock", "sales"], []);
  const { data: variances } = useTopicData(() => api.wetStock({ flagged: true }), ["stock"], []);
  const [search, setSearch] = useState("");
  const productColumns = useProductColumns();
  const tankColumns = useTankColumns();

  const rows = useMemo(() => report?.rows ?? [], [report]);
  // The most urgent first: fewest days of cover (a tank without sales has none, so comes last).
  const low = useMemo(
    () =>
      rows
        .filter((row) => row.low)
        .sort((a, b) => (a.days_of_cover_tenths ?? Infinity) - (b.days_of_cover_tenths ?? Infinity)),
    [rows],
  );
  const found = useMemo(() => {
    const text = search.trim().toLowerCase();
    if (text === "") return rows;
    return rows.filter(
      (row) =>
        row.station.toLowerCase().includes(text) ||
        row.name.toLowerCase().includes(text) ||
        row.product.toLowerCase().includes(text) ||
        row.product_name.toLowerCase().includes(text),
    );
  }, [rows, search]);
  const flagged = useMemo(
    () =>
      [...(variances ?? [])].sort(
        (a, b) => b.business_day.localeCompare(a.business_day) || a.station.localeCompare(b.station),
      ),
    [variances],
  );
  const tankKey = (row: StockRow) => `${row.station}-${row.tank}`;

  return (
    <div class="stock">
      <h1>{t("stock.title")}</h1>
      <section class="card">
        <h2>{t("stock.by_product")}</h2>
        <ReportTable
          testId="stock-products-table"
          exportName="stock-by-product"
          columns={productColumns}
          rows={report?.by_product ?? []}
          rowKey={(row) => row.product}
          row={(row) => ({ testId: `stock-product-${row.product}`, "data-book-ml": row.book_stock_ml })}
        />
      </section>
      <section class="card">
        <h2>{t("stock.low")}</h2>
        <ReportTable
          testId="stock-low-table"
          exportName="stock-low"
          columns={tankColumns}
          rows={low}
          rowKey={tankKey}
          row={(row) => ({ testId: `stock-low-${row.station}-${row.tank}` })}
        />
      </section>
      <section class="card">
        <div class="toolbar">
          <h2>{t("stock.by_station")}</h2>
          <Field label={t("stock.search")}>
            <input
              type="search"
              data-testid="stock-search"
              placeholder={t("stock.search_placeholder")}
              value={search}
              onInput={(e) => setSearch(e.currentTarget.value)}
            />
          </Field>
        </div>
        <ReportTable
          testId="stock-stations-table"
          exportName="stock-by-station"
          columns={tankColumns}
          rows={found}
          rowKey={tankKey}
          row={(row) => ({
            testId: `stock-row-${row.station}-${row.tank}`,
            "data-low": row.low,
            class: row.low ? "flagged" : undefined,
          })}
          windowKey={search}
        />
      </section>
      <section class="card">
        <h2>{t("stock.variances")}</h2>
        <VarianceTable rows={flagged} testId="stock-variance-table" exportName="variances" withStation />
      </section>
    </div>
  );
}

function useProductColumns(): ReportColumn<ProductStock>[] {
  const { t } = useHq();
  return useMemo(
    () => [
      { header: t("common.product"), cell: (r) => <span class="mono">{r.product}</span>, csv: (r) => r.product },
      { header: t("common.name"), cell: (r) => r.product_name, csv: (r) => r.product_name },
      litresColumn<ProductStock>(t("stock.book"), (r) => r.book_stock_ml),
      litresColumn<ProductStock>(t("stock.capacity"), (r) => r.capacity_ml),
      { header: t("stock.fill"), num: true, cell: (r) => fillPercent(r.book_stock_ml, r.capacity_ml) },
      litresColumn<ProductStock>(t("stock.daily_sales"), (r) => r.daily_sales_ml),
      {
        header: t("stock.days_of_cover"),
        num: true,
        cell: (r) => cover(r.days_of_cover_tenths),
        csv: (r) => (r.days_of_cover_tenths === null ? null : formatTenths(r.days_of_cover_tenths)),
      },
    ],
    [t],
  );
}

function useTankColumns(): ReportColumn<StockRow>[] {
  const { t } = useHq();
  return useMemo(
    () => [
      { header: t("station.id"), cell: (r) => <StationLink station={r.station} />, csv: (r) => r.station },
      { header: t("common.name"), cell: (r) => r.name, csv: (r) => r.name },
      { header: t("stock.tank"), num: true, cell: (r) => r.tank, csv: (r) => r.tank },
      { header: t("common.product"), cell: (r) => r.product_name, csv: (r) => r.product_name },
      litresColumn<StockRow>(t("stock.book"), (r) => r.book_stock_ml),
      litresColumn<StockRow>(t("stock.capacity"), (r) => r.capacity_ml),
      { header: t("stock.fill"), num: true, cell: (r) => fillPercent(r.book_stock_ml, r.capacity_ml) },
      litresColumn<StockRow>(t("stock.daily_sales"), (r) => r.daily_sales_ml),
      {
        header: t("stock.days_of_cover"),
        num: true,
        cell: (r) => (
          <span class={r.low ? "bad strong" : undefined} data-low={String(r.low)}>
            {cover(r.days_of_cover_tenths)}
          </span>
        ),
        csv: (r) => (r.days_of_cover_tenths === null ? null : formatTenths(r.days_of_cover_tenths)),
      },
      {
        header: t("stock.low_flag"),
        cell: (r) => (r.low ? <span class="pill bad">{t("stock.low_short")}</span> : null),
        csv: (r) => (r.low ? t("stock.low_short") : ""),
      },
    ],
    [t],
  );
}
