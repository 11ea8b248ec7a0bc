// Station users (manager only): list, add with a PIN, change a PIN.

import { useState } from "preact/hooks";
import { api, type Role } from "../api";
import { Form, SelectField, TextField } from "../components/form";
import { Table } from "../components/Table";
import { useApp } from "../context";
import { useLoadOnce } from "../hooks";

export function Users() {
  const { t, run, notify } = useApp();
  const [users, setUsers] = useLoadOnce(() => api.users(), []);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("cashier");
  const [pin, setPin] = useState("");
  const [changing, setChanging] = useState<string | null>(null);
  const [newPin, setNewPin] = useState("");

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
        <Table columns={[t("users.id"), t("users.name"), t("users.role"), t("users.active"), ""]}>
          {users.map((u) => (
            <tr key={u.user} data-testid={`user-row-${u.user}`}>
              <td class="mono">{u.user}</td>
              <td>{u.name}</td>
              <td>{t(`role.${u.role}`)}</td>
              <td>{u.active ? t("common.yes") : t("common.no")}</td>
              <td>
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
              </td>
            </tr>
          ))}
        </Table>
      </section>
    </div>
  );
}
