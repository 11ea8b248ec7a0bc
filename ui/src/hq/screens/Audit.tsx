// The audit logs, newest first: HQ's own (log-ins and every change HQ made) and the stations'
// (logins, failed PIN checks, lockouts, approvals, overrides, cancellations, account payments,
// user changes, reprints, as each station sent them). Each is searched by text (subject or
// detail), action and actor, the stations' also by station; "older entries" asks for more of
// the same search.

import { useMemo, useState } from "preact/hooks";
import { ChoiceButton, Form, SelectField, TextField } from "../../shared/components/form";
import { formatTime } from "../../shared/format";
import {
  api,
  AUDIT_ACTIONS,
  STATION_AUDIT_ACTIONS,
  type AuditAction,
  type AuditEntry,
  type StationAuditAction,
  type StationAuditEntry,
} from "../api";
import { ReportTable, type ReportColumn, type RowAttributes } from "../components/ReportTable";
import { StationFilter } from "../components/StationFilter";
import { StationLink } from "../components/StationLink";
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

type Source = "hq" | "stations";

export function AuditScreen() {
  const { t } = useHq();
  const [source, setSource] = useState<Source>("hq");
  return (
    <div class="audit">
      <h1>{t("audit.title")}</h1>
      <div class="choices" role="group" aria-label={t("audit.title")}>
        {(["hq", "stations"] as const).map((s) => (
          <ChoiceButton key={s} chip active={source === s} testId={`audit-source-${s}`} onClick={() => setSource(s)}>
            {t(`audit.source.${s}`)}
          </ChoiceButton>
        ))}
      </div>
      {source === "hq" ? <HqAudit /> : <StationAudit />}
    </div>
  );
}

/** The label of an action, or the action itself when this dashboard does not know it yet. */
function useActionLabel(): (action: string) => string {
  const { t } = useHq();
  return (action: string) => {
    const key = `audit.action.${action}`;
    return isTextKey(key) ? t(key) : action;
  };
}

/** The action to search for, among `actions`, or all of them. */
function ActionField<A extends string>(props: {
  testId: string;
  actions: readonly A[];
  value: A | null;
  onValue: (action: A | null) => void;
}) {
  const { t } = useHq();
  const label = useActionLabel();
  return (
    <SelectField
      label={t("audit.action")}
      testId={props.testId}
      value={props.value ?? ""}
      onValue={(value) => props.onValue(props.actions.find((known) => known === value) ?? null)}
    >
      <option value="">{t("audit.all")}</option>
      {props.actions.map((action) => (
        <option key={action} value={action}>
          {label(action)}
        </option>
      ))}
    </SelectField>
  );
}

/** The entries found (a table with its CSV export), and "older entries" while there may be more. */
function AuditResults<Entry>(props: {
  testId: string;
  entries: readonly Entry[] | null;
  columns: readonly ReportColumn<Entry>[];
  rowKey: (entry: Entry) => string;
  row: (entry: Entry) => RowAttributes;
  limit: number;
  onOlder: () => void;
}) {
  const { t } = useHq();
  return (
    <section class="card">
      {props.entries === null ? (
        <p class="muted">{t("common.loading")}</p>
      ) : (
        <>
          <ReportTable
            testId={`${props.testId}-table`}
            exportName={props.testId}
            columns={props.columns}
            rows={props.entries}
            rowKey={props.rowKey}
            row={props.row}
            windowed={false}
          />
          {props.entries.length >= props.limit && props.limit < AUDIT_MAX ? (
            <button type="button" class="show-more" data-testid={`${props.testId}-older`} onClick={props.onOlder}>
              {t("audit.older")}
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}

function HqAudit() {
  const { t, timeZone } = useHq();
  const [typed, setTyped] = useState<Search>({ q: "", action: null, actor: "" });
  const [search, setSearch] = useState<Search>(typed);
  const [limit, setLimit] = useState(AUDIT_PAGE);
  const { data: entries } = useTopicData(
    () => api.audit({ q: search.q, action: search.action, actor: search.actor, limit }),
    ["audit"],
    [search.q, search.action, search.actor, limit],
  );

  const label = useActionLabel();

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
    <>
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
        <ActionField
          testId="audit-action"
          actions={AUDIT_ACTIONS}
          value={typed.action}
          onValue={(action) => setTyped({ ...typed, action })}
        />
        <TextField
          label={t("audit.actor")}
          testId="audit-actor"
          autoComplete="off"
          value={typed.actor}
          onValue={(actor) => setTyped({ ...typed, actor })}
        />
      </Form>
      <AuditResults
        testId="audit"
        entries={entries}
        columns={columns}
        rowKey={(e) => String(e.entry)}
        row={(e) => ({ testId: `audit-row-${e.entry}`, "data-action": e.action, "data-actor": e.actor })}
        limit={limit}
        onOlder={() => setLimit(Math.min(limit + AUDIT_PAGE, AUDIT_MAX))}
      />
    </>
  );
}

interface StationSearch {
  station: string;
  q: string;
  action: StationAuditAction | null;
  actor: string;
}

function StationAudit() {
  const { t, timeZone } = useHq();
  const [typed, setTyped] = useState<StationSearch>({ station: "", q: "", action: null, actor: "" });
  const [search, setSearch] = useState<StationSearch>(typed);
  const [limit, setLimit] = useState(AUDIT_PAGE);
  const { data: entries } = useTopicData(
    () =>
      api.stationAudit({
        station: search.station,
        q: search.q,
        action: search.action,
        actor: search.actor,
        limit,
      }),
    ["audit"],
    [search.station, search.q, search.action, search.actor, limit],
  );
  const label = useActionLabel();

  const columns = useMemo(
    (): ReportColumn<StationAuditEntry>[] => [
      { header: t("station.id"), cell: (e) => <StationLink station={e.station} />, csv: (e) => e.station },
      { header: t("audit.station_entry"), num: true, cell: (e) => e.entry, csv: (e) => e.entry },
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
      {
        header: t("audit.approved_by"),
        cell: (e) => <span class="mono">{e.approved_by ?? ""}</span>,
        csv: (e) => e.approved_by,
      },
      { header: t("audit.subject"), cell: (e) => <span class="mono">{e.subject ?? ""}</span>, csv: (e) => e.subject },
      { header: t("audit.detail"), cell: (e) => e.detail, csv: (e) => e.detail },
    ],
    [t, timeZone],
  );

  return (
    <>
      <Form
        class="card row-form"
        onSubmit={() => {
          setLimit(AUDIT_PAGE);
          setSearch({ ...typed, q: typed.q.trim(), actor: typed.actor.trim() });
        }}
        submitLabel={t("audit.search")}
        submitTestId="station-audit-search"
      >
        <StationFilter testId="station-audit-station" onStation={(station) => setTyped({ ...typed, station })} />
        <TextField
          label={t("audit.q")}
          testId="station-audit-q"
          value={typed.q}
          onValue={(q) => setTyped({ ...typed, q })}
        />
        <ActionField
          testId="station-audit-action"
          actions={STATION_AUDIT_ACTIONS}
          value={typed.action}
          onValue={(action) => setTyped({ ...typed, action })}
        />
        <TextField
          label={t("audit.actor")}
          testId="station-audit-actor"
          autoComplete="off"
          value={typed.actor}
          onValue={(actor) => setTyped({ ...typed, actor })}
        />
      </Form>
      <AuditResults
        testId="station-audit"
        entries={entries}
        columns={columns}
        rowKey={(e) => String(e.audit_no)}
        row={(e) => ({
          testId: `station-audit-row-${e.station}-${e.entry}`,
          "data-action": e.action,
          "data-actor": e.actor,
        })}
        limit={limit}
        onOlder={() => setLimit(Math.min(limit + AUDIT_PAGE, AUDIT_MAX))}
      />
    </>
  );
}
