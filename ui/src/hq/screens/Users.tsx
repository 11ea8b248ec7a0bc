// HQ users and their roles (administrators only): add a user, change a role, lift a lockout
// after too many wrong passwords.

import { useMemo, useState } from "preact/hooks";
import { Form, SelectField, TextField } from "../../shared/components/form";
import { formatTime } from "../../shared/format";
import { useBusy } from "../../shared/hooks";
import { api, ROLES, type HqUser, type Role } from "../api";
import { ReportTable, type ReportColumn } from "../components/ReportTable";
import { useHq } from "../context";
import { useTopicData } from "../hooks";

function roleOf(value: string): Role {
  return ROLES.find((known) => known === value) ?? "analyst";
}

export function UsersScreen() {
  const { t, can } = useHq();
  return (
    <div class="users">
      <h1>{t("users.title")}</h1>
      {can("manage_users") ? (
        <UserAdmin />
      ) : (
        <p class="card muted" data-testid="users-admin-only">
          {t("users.admin_only")}
        </p>
      )}
    </div>
  );
}

function UserAdmin() {
  const { t, me, run, notify, timeZone } = useHq();
  const { data: users, reload } = useTopicData(() => api.hqUsers(), ["users"], []);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  /** Roles chosen in the table and not saved yet, by user. */
  const [chosen, setChosen] = useState<Record<string, Role>>({});
  const [busy, whileBusy] = useBusy();

  const add = async () => {
    const name = username.trim();
    const result = await run(() => api.addHqUser(name, password, role));
    if (result.ok) {
      notify(t("users.added", { user: name }));
      setUsername("");
      setPassword("");
      reload();
    }
  };

  const saveRole = (user: HqUser) =>
    whileBusy(async () => {
      const next = chosen[user.username];
      if (next === undefined) return;
      const result = await run(() => api.setRole(user.username, next));
      if (!result.ok) return;
      notify(t("users.role_changed", { user: user.username, role: t(`role.${result.value.role}`) }));
      setChosen((before) => Object.fromEntries(Object.entries(before).filter(([name]) => name !== user.username)));
      reload();
    });

  const lift = (user: HqUser) =>
    whileBusy(async () => {
      const result = await run(() => api.liftLockout(user.username));
      if (!result.ok) return;
      notify(t("users.lifted", { user: user.username }));
      reload();
    });

  const columns = useMemo(
    (): ReportColumn<HqUser>[] => [
      {
        header: t("users.username"),
        cell: (u) => (
          <>
            <span class="mono">{u.username}</span>
            {u.username === me.username ? <span class="muted small"> ({t("users.you")})</span> : null}
          </>
        ),
        csv: (u) => u.username,
      },
      {
        header: t("users.role"),
        cell: (u) => {
          const shown = chosen[u.username] ?? u.role;
          return (
            <span class="inline-form">
              <select
                data-testid={`user-role-${u.username}`}
                aria-label={t("users.role_of", { user: u.username })}
                value={shown}
                onChange={(e) => setChosen((before) => ({ ...before, [u.username]: roleOf(e.currentTarget.value) }))}
              >
                {ROLES.map((known) => (
                  <option key={known} value={known}>
                    {t(`role.${known}`)}
                  </option>
                ))}
              </select>
              <button
                type="button"
                class="small-button"
                data-testid={`user-role-save-${u.username}`}
                disabled={busy || shown === u.role}
                onClick={() => void saveRole(u)}
              >
                {t("users.change_role")}
              </button>
            </span>
          );
        },
        csv: (u) => t(`role.${u.role}`),
      },
      {
        header: t("users.created_at"),
        cell: (u) => formatTime(u.created_at, timeZone),
        csv: (u) => formatTime(u.created_at, timeZone),
      },
      {
        header: t("common.status"),
        cell: (u) =>
          u.locked ? (
            <span class="actions">
              <span class="pill bad">{t("users.locked")}</span>
              <button
                type="button"
                class="small-button"
                data-testid={`user-lift-${u.username}`}
                disabled={busy}
                onClick={() => void lift(u)}
              >
                {t("users.lift")}
              </button>
            </span>
          ) : (
            <span class="pill ok">{t("users.active")}</span>
          ),
        csv: (u) => t(u.locked ? "users.locked" : "users.active"),
      },
    ],
    [t, me, chosen, busy, timeZone],
  );

  return (
    <>
      <Form class="card row-form" onSubmit={add} submitLabel={t("users.add")} submitTestId="user-add">
        <h2>{t("users.add")}</h2>
        <TextField
          label={t("users.username")}
          testId="user-username"
          autoComplete="off"
          value={username}
          onValue={setUsername}
        />
        <TextField
          label={t("users.password")}
          testId="user-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onValue={setPassword}
        />
        <SelectField
          label={t("users.role")}
          testId="user-role"
          value={role}
          onValue={(value) => setRole(roleOf(value))}
        >
          {ROLES.map((known) => (
            <option key={known} value={known}>
              {t(`role.${known}`)}
            </option>
          ))}
        </SelectField>
      </Form>
      <section class="card">
        {users === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <ReportTable
            testId="users-table"
            exportName="hq-users"
            columns={columns}
            rows={users}
            rowKey={(u) => u.username}
            row={(u) => ({ testId: `user-row-${u.username}`, "data-role": u.role, "data-locked": u.locked })}
          />
        )}
      </section>
    </>
  );
}
