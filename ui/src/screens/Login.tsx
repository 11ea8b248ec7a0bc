// PIN sign-in for cashiers and managers.

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, type LoginResult } from "../api";
import { ApiError } from "../shared/http";
import type { Problem } from "../shared/components/Banner";
import { Form, TextField } from "../shared/components/form";
import { useBusy } from "../shared/hooks";
import type { Translate } from "../i18n";

export function Login(props: {
  t: Translate;
  langButtons: JSX.Element;
  checking: boolean;
  onSignedIn: (result: LoginResult) => void;
  onProblem: (problem: Problem | null) => void;
}) {
  const { t } = props;
  const [user, setUser] = useState("");
  const [pin, setPin] = useState("");
  const [busy, whileBusy] = useBusy();

  const submit = () =>
    whileBusy(async () => {
      props.onProblem(null);
      let result: LoginResult;
      try {
        result = await api.login(user.trim(), pin);
      } catch (error) {
        setPin("");
        if (error instanceof ApiError) props.onProblem({ code: error.code, message: error.message });
        return;
      }
      props.onSignedIn(result);
    });

  return (
    <div class="login-page">
      <Form
        class="card login"
        onSubmit={submit}
        submitLabel={t("login.submit")}
        submitTestId="login-submit"
        busy={busy}
      >
        <div class="login-head">
          <h1>{t("app.title")}</h1>
          {props.langButtons}
        </div>
        {props.checking ? <p class="muted">{t("login.checking")}</p> : null}
        <TextField
          label={t("login.user")}
          testId="login-user"
          autoComplete="username"
          autoFocus
          value={user}
          onValue={setUser}
        />
        <TextField
          label={t("login.pin")}
          testId="login-pin"
          type="password"
          inputMode="numeric"
          autoComplete="current-password"
          value={pin}
          onValue={setPin}
        />
      </Form>
    </div>
  );
}
