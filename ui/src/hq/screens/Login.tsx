// Password sign-in for HQ users; the hub's refusal (wrong password, too soon, locked out) shows
// in the banner.

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Problem } from "../../shared/components/Banner";
import { Form, TextField } from "../../shared/components/form";
import { ApiError } from "../../shared/http";
import { useBusy } from "../../shared/hooks";
import { api, type LoginResult } from "../api";
import type { Translate } from "../i18n";

export function Login(props: {
  t: Translate;
  langSwitch: JSX.Element;
  checking: boolean;
  onSignedIn: (result: LoginResult) => void;
  onProblem: (problem: Problem | null) => void;
}) {
  const { t } = props;
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, whileBusy] = useBusy();

  const submit = () =>
    whileBusy(async () => {
      props.onProblem(null);
      let result: LoginResult;
      try {
        result = await api.login(username.trim(), password);
      } catch (error) {
        setPassword("");
        props.onProblem(
          error instanceof ApiError
            ? { code: error.code, message: error.message }
            : { code: "ui.error", message: String(error) },
        );
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
          {props.langSwitch}
        </div>
        {props.checking ? <p class="muted">{t("login.checking")}</p> : null}
        <TextField
          label={t("login.user")}
          testId="login-user"
          autoComplete="username"
          autoFocus
          value={username}
          onValue={setUsername}
        />
        <TextField
          label={t("login.password")}
          testId="login-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
        />
      </Form>
    </div>
  );
}
