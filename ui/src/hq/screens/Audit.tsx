// The HQ audit log, newest first: searched by text (subject or detail), action and actor; "older
// entries" asks for more of the same search.

import { useMemo, useState } from "preact/hooks";
import { Form, SelectField, TextField } from "../../shared/components/form";
import { formatTime } from "../../shared/format";
import { api, AUDIT_ACTIONS, type AuditAction, type AuditEntry } from "../api";
import { ReportTable, type ReportColumn } from "../components/ReportTable";
import { useHq } from "../context";
import { useTopicData } from "../hooks";
import { isTextKey } from "../i18n";

/** Entries asked for at first, and added by each "older entries", up to the most the hub sends. */
const AUDIT_PAGE = 200;
const AUDIT_MAX = 1000;

interface Search {
  q: string;
  action: AuditAction | null;
  actor: string;
}

export function AuditScreen() {
  const { t, timeZone } = useHq();
  const [typed, setTyped] = useState<Search>({ q: "", action: null, actor: "" });
  const [search, setSearch] = useState<Search>(typed);
  const [limit, setLimit] = useState(AUDIT_PAGE);
  const { data: entries } = useTopicData(
    () => api.audit({ q: search.q, action: search.action, actor: search.actor, limit }),
    ["audit"],
    [search.q, search.action, search.actor, limit],
  );

  const label = (action: string) => {
    const key = `audit.action.${action}`;
    return isTextKey(key) ? t(key) : action;
  };

  const columns = useMemo(
    (): ReportColumn<AuditEntry>[] => [
      { header: t("audit.entry"), num: true, cell: (e) => e.entry, csv: (e) => e.entry },
      {
        header: t("common.time"),
        cell: (e) => <span class="nowrap">{formatTime(e.at, timeZone, { seconds: true })}</span>,
        csv: (e) => formatTime(e.at, timeZone, { seconds: true }),
      },
      {
        header: t("audit.action"),
        cell: (e) => <span class={`pill audit-${e.action}`}>{label(e.action)}</span>,
        csv: (e) => label(e.action),
      },
      { header: t("audit.actor"), cell: (e) => <span class="mono">{e.actor}</span>, csv: (e) => e.actor },
      { header: t("audit.subject"), cell: (e) => <span class="mono">{e.subject ?? ""}</span>, csv: (e) => e.subject },
      { header: t("audit.detail"), cell: (e) => e.detail, csv: (e) => e.detail },
    ],
    [t, timeZone],
  );

  return (
    <div class="audit">
      <h1>{t("audit.title")}</h1>
      <Form
        class="card row-form"
        onSubmit={() => {
          setLimit(AUDIT_PAGE);
          setSearch({ q: typed.q.trim(), action: typed.action, actor: typed.actor.trim() });
        }}
        submitLabel={t("audit.search")}
        submitTestId="audit-search"
      >
        <TextField label={t("audit.q")} testId="audit-q" value={typed.q} onValue={(q) => setTyped({ ...typed, q })} />
        <SelectField
          label={t("audit.action")}
          testId="audit-action"
          value={typed.action ?? ""}
          onValue={(value) => setTyped({ ...typed, action: AUDIT_ACTIONS.find((known) => known === value) ?? null })}
        >
          <option value="">{t("audit.all")}</option>
          {AUDIT_ACTIONS.map((action) => (
            <option key={action} value={action}>
              {label(action)}
            </option>
          ))}
        </SelectField>
        <TextField
          label={t("audit.actor")}
          testId="audit-actor"
          autoComplete="off"
          value={typed.actor}
          onValue={(actor) => setTyped({ ...typed, actor })}
        />
      </Form>
      <section class="card">
        {entries === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <>
            <ReportTable
              testId="audit-table"
              exportName="audit"
              columns={columns}
              rows={entries}
              rowKey={(e) => String(e.entry)}
              row={(e) => ({ testId: `audit-row-${e.entry}`, "data-action": e.action, "data-actor": e.actor })}
              windowed={false}
            />
            {entries.length >= limit && limit < AUDIT_MAX ? (
              <button
                type="button"
                class="show-more"
                data-testid="audit-older"
                onClick={() => setLimit(Math.min(limit + AUDIT_PAGE, AUDIT_MAX))}
              >
                {t("audit.older")}
              </button>
            ) : null}
          </>
        )}
      </section>
    </div>
  );
}
