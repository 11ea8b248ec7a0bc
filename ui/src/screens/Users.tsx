// Station users (manager only): list, add with a PIN, change a PIN, lift a lockout after too
// many wrong PINs, deactivate a user who left (or let them back in). Users are never deleted:
// a deactivated one stays listed, greyed.

import { useState } from "preact/hooks";
import { api, type Role, type User } from "../api";
import { Form, SelectField, TextField } from "../shared/components/form";
import { FormDialog } from "../shared/components/Modal";
import { Table } from "../shared/components/Table";
import { useApp } from "../context";
import { useLoadOnce } from "../hooks";
import { useBusy } from "../shared/hooks";

export function Users() {
  const { t, run, notify, session } = useApp();
  const [users, setUsers] = useLoadOnce(() => api.users(), []);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("cashier");
  const [pin, setPin] = useState("");
  const [changing, setChanging] = useState<string | null>(null);
  const [newPin, setNewPin] = useState("");
  /** The user whose access is about to change, waiting for the manager's confirmation. */
  const [confirming, setConfirming] = useState<User | null>(null);
  const [busy, whileBusy] = useBusy();

  const add = async () => {
    const result = await run(() => api.addUser(id.trim(), name.trim(), role, pin));
    if (result.ok) {
      notify(t("users.added_done", { user: id.trim() }));
      setUsers(result.value);
      setId("");
      setName("");
      setPin("");
    }
  };

  const changePin = async (event: Event) => {
    event.preventDefault();
    if (changing === null) return;
    const user = changing;
    const result = await run(() => api.changePin(user, newPin));
    if (result.ok) {
      notify(t("users.pin_done", { user }));
      setChanging(null);
      setNewPin("");
    }
  };

  const liftLockout = (user: User) =>
    whileBusy(async () => {
      const result = await run(() => api.liftLockout(user.user));
      if (result.ok) {
        setUsers(result.value);
        notify(t("users.lifted_done", { user: user.user }));
      }
    });

  const setActive = (user: User, active: boolean) =>
    whileBusy(async () => {
      const result = await run(() => api.setUserActive(user.user, active));
      if (result.ok) {
        setUsers(result.value);
        setConfirming(null);
        notify(t(active ? "users.reactivated_done" : "users.deactivated_done", { user: user.user }));
      }
    });

  return (
    <div class="users">
      <h1>{t("users.title")}</h1>
      <Form class="card row-form" onSubmit={add} submitLabel={t("users.add")} submitTestId="user-add">
        <h2>{t("users.add")}</h2>
        <TextField label={t("users.id")} testId="user-id" autoComplete="off" value={id} onValue={setId} />
        <TextField label={t("users.name")} testId="user-name" value={name} onValue={setName} />
        <SelectField
          label={t("users.role")}
          testId="user-role"
          value={role}
          onValue={(value) => setRole(value === "manager" ? "manager" : "cashier")}
        >
          <option value="cashier">{t("role.cashier")}</option>
          <option value="manager">{t("role.manager")}</option>
        </SelectField>
        <TextField
          label={t("users.pin")}
          testId="user-pin"
          type="password"
          inputMode="numeric"
          autoComplete="new-password"
          value={pin}
          onValue={setPin}
        />
      </Form>
      <section class="card">
        <Table columns={[t("users.id"), t("users.name"), t("users.role"), t("users.status"), ""]}>
          {users.map((u) => {
            const self = u.user === session.user;
            return (
              <tr
                key={u.user}
                data-testid={`user-row-${u.user}`}
                data-active={String(u.active)}
                data-locked-out={String(u.locked_out)}
                class={u.active ? "" : "inactive"}
              >
                <td class="mono">{u.user}</td>
                <td>
                  {u.name}
                  {self ? <span class="muted small"> ({t("users.you")})</span> : null}
                </td>
                <td>{t(`role.${u.role}`)}</td>
                <td>
                  {u.active ? (
                    <span class="pill ok">{t("users.active")}</span>
                  ) : (
                    <span class="pill" data-testid="user-inactive-badge">
                      {t("users.inactive")}
                    </span>
                  )}
                  {u.locked_out ? (
                    <span class="pill bad" data-testid="user-locked-badge">
                      {t("users.locked_out")}
                    </span>
                  ) : u.failed_pins > 0 ? (
                    <span class="pill warn" data-testid="user-failed-pins-badge" data-failed-pins={u.failed_pins}>
                      {u.retry_after_s > 0
                        ? t("users.failed_pins_wait", { n: u.failed_pins, s: u.retry_after_s })
                        : t("users.failed_pins", { n: u.failed_pins })}
                    </span>
                  ) : null}
                </td>
                <td class="actions">
                  {u.locked_out || u.failed_pins > 0 ? (
                    <button
                      type="button"
                      class={u.locked_out ? "primary" : ""}
                      data-testid="user-lift-lockout"
                      disabled={busy}
                      onClick={() => void liftLockout(u)}
                    >
                      {u.locked_out ? t("users.lift_lockout") : t("users.clear_failed_pins")}
                    </button>
                  ) : null}
                  {changing === u.user ? (
                    <form class="inline-form" onSubmit={changePin}>
                      <input
                        data-testid="user-new-pin"
                        type="password"
                        inputMode="numeric"
                        autoComplete="new-password"
                        aria-label={t("users.new_pin")}
                        placeholder={t("users.new_pin")}
                        autoFocus
                        value={newPin}
                        onInput={(e) => setNewPin(e.currentTarget.value)}
                      />
                      <button type="submit" class="primary" data-testid="user-pin-save">
                        {t("common.save")}
                      </button>
                      <button type="button" onClick={() => setChanging(null)}>
                        {t("common.cancel")}
                      </button>
                    </form>
                  ) : (
                    <button type="button" data-testid="user-change-pin" onClick={() => setChanging(u.user)}>
                      {t("users.change_pin")}
                    </button>
                  )}
                  {/* A manager cannot deactivate themselves (the runtime refuses it too). */}
                  {self ? null : u.active ? (
                    <button type="button" class="danger" data-testid="user-deactivate" onClick={() => setConfirming(u)}>
                      {t("users.deactivate")}
                    </button>
                  ) : (
                    <button type="button" data-testid="user-reactivate" onClick={() => setConfirming(u)}>
                      {t("users.reactivate")}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </Table>
      </section>
      {confirming === null ? null : (
        <ActiveDialog
          user={confirming}
          busy={busy}
          onClose={() => setConfirming(null)}
          onConfirm={() => void setActive(confirming, !confirming.active)}
        />
      )}
    </div>
  );
}

/** The confirmation step before a user's access changes: it names the user and what follows. */
function ActiveDialog(props: { user: User; busy: boolean; onClose: () => void; onConfirm: () => void }) {
  const { t } = useApp();
  const { user } = props;
  const names = { name: user.name, user: user.user };
  const deactivating = user.active;
  return (
    <FormDialog
      title={t(deactivating ? "users.deactivate_title" : "users.reactivate_title", names)}
      onClose={props.onClose}
      testId="user-active-dialog"
      onSubmit={props.onConfirm}
      submitLabel={t(deactivating ? "users.deactivate_confirm" : "users.reactivate_confirm", names)}
      submitTestId="user-active-confirm"
      danger={deactivating}
      busy={props.busy}
    >
      <p data-testid="user-active-question">
        {t(deactivating ? "users.deactivate_body" : "users.reactivate_body", names)}
      </p>
      <button type="button" data-testid="user-active-cancel" onClick={props.onClose}>
        {t("common.cancel")}
      </button>
    </FormDialog>
  );
}
