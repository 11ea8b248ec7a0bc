// The product master: every product with its name and unit; pricing and administrators add a
// product or rename one (the same form: an id already known is renamed).

import { useMemo, useState } from "preact/hooks";
import { Field, Form, SelectField, TextField } from "../../../shared/components/form";
import { api, UNITS, type Product, type Unit } from "../../api";
import { ReportTable, type ReportColumn } from "../../components/ReportTable";
import { useHq } from "../../context";

export function Products() {
  const { t, can, products, run, notify, refreshProducts } = useHq();
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [unit, setUnit] = useState<Unit>("litre");
  const [search, setSearch] = useState("");
  const mayEdit = can("edit_products");
  const known = products.some((p) => p.product === id.trim());

  const edit = (product: Product) => {
    setId(product.product);
    setName(product.name);
    setUnit(product.unit);
  };

  const save = async () => {
    const product = id.trim();
    const result = await run(() => api.saveProduct(product, name.trim(), unit));
    if (result.ok) {
      notify(t(known ? "products.renamed" : "products.added", { product }));
      setId("");
      setName("");
      refreshProducts();
    }
  };

  const found = useMemo(() => {
    const text = search.trim().toLowerCase();
    return text === ""
      ? products
      : products.filter((p) => p.product.toLowerCase().includes(text) || p.name.toLowerCase().includes(text));
  }, [products, search]);

  const columns = useMemo((): ReportColumn<Product>[] => {
    const all: ReportColumn<Product>[] = [
      { header: t("common.product"), cell: (p) => <span class="mono">{p.product}</span>, csv: (p) => p.product },
      { header: t("common.name"), cell: (p) => p.name, csv: (p) => p.name },
      { header: t("products.unit"), cell: (p) => t(`products.unit.${p.unit}`), csv: (p) => p.unit },
    ];
    if (!mayEdit) return all;
    return [
      ...all,
      {
        header: "",
        cell: (p) => (
          <button type="button" class="small-button" data-testid={`product-edit-${p.product}`} onClick={() => edit(p)}>
            {t("products.rename")}
          </button>
        ),
      },
    ];
  }, [t, mayEdit]);

  return (
    <section class="card">
      <h2>{t("products.title")}</h2>
      {mayEdit ? (
        <Form
          class="row-form"
          onSubmit={save}
          submitLabel={t(known ? "products.save_rename" : "products.save_add")}
          submitTestId="product-form-save"
        >
          <TextField label={t("products.id")} testId="product-form-id" autoComplete="off" value={id} onValue={setId} />
          <TextField label={t("common.name")} testId="product-form-name" value={name} onValue={setName} />
          <SelectField
            label={t("products.unit")}
            testId="product-form-unit"
            value={unit}
            onValue={(value) => setUnit(UNITS.find((known) => known === value) ?? "litre")}
          >
            {UNITS.map((known) => (
              <option key={known} value={known}>
                {t(`products.unit.${known}`)}
              </option>
            ))}
          </SelectField>
        </Form>
      ) : null}
      <div class="filters">
        <Field label={t("products.search")}>
          <input
            type="search"
            data-testid="products-search"
            placeholder={t("prices.search_placeholder")}
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </Field>
      </div>
      <ReportTable
        testId="products-table"
        exportName="products"
        columns={columns}
        rows={found}
        windowKey={search}
        rowKey={(p) => p.product}
        row={(p) => ({ testId: `product-row-${p.product}`, "data-unit": p.unit })}
      />
    </section>
  );
}
