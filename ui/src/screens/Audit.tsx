// The audit log (manager only): who did what and when, who approved it, newest first; filtered
// by action, paged back with "older entries".

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { AUDIT_ACTIONS, api, type AuditAction, type AuditEntry } from "../api";
import { SelectField } from "../shared/components/form";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { formatTime } from "../shared/format";
import { useBusy } from "../shared/hooks";
import { isTextKey } from "../i18n";

/** Entries asked for per page (the runtime answers at most 1,000). */
export const AUDIT_PAGE = 50;

export function AuditScreen() {
  const { t, run, timeZone } = useApp();
  const [action, setAction] = useState<AuditAction | null>(null);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  /** Whether the last page came full, so older entries may be left. */
  const [more, setMore] = useState(false);
  const [reloads, setReloads] = useState(0);
  const [busy, whileBusy] = useBusy();
  const [names, setNames] = useState<Map<string, string>>(new Map());
  // Answers for a filter no longer chosen are dropped.
  const generation = useRef(0);

  useEffect(() => {
    api.users().then(
      (users) => setNames(new Map(users.map((u) => [u.user, u.name]))),
      () => undefined,
    );
  }, []);

  useEffect(() => {
    const mine = ++generation.current;
    setEntries(null);
    setMore(false);
    void run(() => api.audit({ action, limit: AUDIT_PAGE })).then((result) => {
      if (mine !== generation.current) return;
      setEntries(result.ok ? result.value : []);
      setMore(result.ok && result.value.length === AUDIT_PAGE);
    });
  }, [action, reloads, run]);

  const older = () =>
    whileBusy(async () => {
      const last = entries?.at(-1);
      if (last === undefined) return;
      const mine = generation.current;
      const result = await run(() => api.audit({ action, before: last.entry, limit: AUDIT_PAGE }));
      if (!result.ok || mine !== generation.current) return;
      setEntries((shown) => [...(shown ?? []), ...result.value]);
      setMore(result.value.length === AUDIT_PAGE);
    });

  const who = (user: string | null) =>
    user === null ? (
      ""
    ) : (
      <>
        <span class="mono">{user}</span>
        {names.has(user) ? <span class="muted small"> {names.get(user)}</span> : null}
      </>
    );

  /** An action's name in the chosen language (the code itself for one this UI does not know). */
  const label = (name: string) => {
    const key = `audit.action.${name}`;
    return isTextKey(key) ? t(key) : name;
  };
  const options = useMemo(() => AUDIT_ACTIONS.map((name) => ({ name, label: label(name) })), [t]);

  return (
    <div class="audit">
      <div class="toolbar">
        <h1>{t("audit.title")}</h1>
        <SelectField
          label={t("audit.filter")}
          testId="audit-filter"
          value={action ?? ""}
          onValue={(value) => setAction(AUDIT_ACTIONS.find((name) => name === value) ?? null)}
        >
          <option value="">{t("audit.all")}</option>
          {options.map((option) => (
            <option key={option.name} value={option.name}>
              {option.label}
            </option>
          ))}
        </SelectField>
        <button type="button" data-testid="audit-refresh" onClick={() => setReloads((n) => n + 1)}>
          {t("common.refresh")}
        </button>
      </div>
      <section class="card">
        {entries === null ? <p class="muted">{t("common.loading")}</p> : null}
        {entries !== null && entries.length === 0 ? <p class="muted">{t("common.empty")}</p> : null}
        {entries === null || entries.length === 0 ? null : (
          <Table
            testId="audit-list"
            columns={[
              { num: t("audit.entry") },
              t("common.time"),
              t("audit.action"),
              t("audit.actor"),
              t("audit.approved_by"),
              t("audit.subject"),
              t("audit.detail"),
            ]}
          >
            {entries.map((e) => (
              <tr
                key={e.entry}
                data-testid={`audit-row-${e.entry}`}
                data-entry={e.entry}
                data-action={e.action}
                data-actor={e.actor}
                data-subject={e.subject ?? ""}
              >
                <td class="num muted">{e.entry}</td>
                <td class="nowrap">{formatTime(e.at, timeZone, { seconds: true })}</td>
                <td>
                  <span class={`pill audit-${e.action}`}>{label(e.action)}</span>
                </td>
                <td>{who(e.actor)}</td>
                <td>{who(e.approved_by)}</td>
                <td class="mono">{e.subject ?? ""}</td>
                <td>{e.detail}</td>
              </tr>
            ))}
          </Table>
        )}
        {entries === null || entries.length === 0 ? null : (
          <div class="audit-foot">
            <span class="muted" data-testid="audit-count">
              {t("audit.shown", { count: entries.length })}
            </span>
            {more ? (
              <button type="button" data-testid="audit-older" disabled={busy} onClick={() => void older()}>
                {t("audit.older")}
              </button>
            ) : (
              <span class="muted" data-testid="audit-no-older">
                {t("audit.no_older")}
              </span>
            )}
          </div>
        )}
      </section>
    </div>
  );
}
