// Price list versions: the one in force, scheduled ones, and past ones.

import { api } from "../api";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { formatTime, formatWon } from "../shared/format";
import { useLoadOnce } from "../hooks";

export function Prices() {
  const { t, lang, timeZone } = useApp();
  const [versions] = useLoadOnce(() => api.prices(), []);

  const order = { scheduled: 0, in_force: 1, superseded: 2 } as const;
  const sorted = [...versions].sort((a, b) => order[a.status] - order[b.status] || b.version - a.version);

  return (
    <div class="prices">
      <h1>{t("prices.title")}</h1>
      {sorted.length === 0 ? <p class="muted">{t("common.empty")}</p> : null}
      {sorted.map((version) => (
        <section
          class={`card price-version version-${version.status}`}
          key={version.version}
          data-testid={`price-version-${version.version}`}
          data-status={version.status}
        >
          <header>
            <h2>{t("prices.version", { version: version.version })}</h2>
            <span class={`badge status-${version.status}`}>{t(`prices.status.${version.status}`)}</span>
            <span class="muted">
              {t("prices.effective")}: {formatTime(version.effective_at, timeZone)}
            </span>
            {version.applied_at === null ? null : (
              <span class="muted">
                {t("prices.applied")}: {formatTime(version.applied_at, timeZone)}
              </span>
            )}
          </header>
          <Table>
            {version.items.map((item) => (
              <tr key={item.product}>
                <td class="mono">{item.product}</td>
                <td>{item.name}</td>
                <td class="num">
                  {formatWon(item.unit_price_won, lang)} {t(`unit.${item.unit}`)}
                </td>
              </tr>
            ))}
          </Table>
        </section>
      ))}
    </div>
  );
}
