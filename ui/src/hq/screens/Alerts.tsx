// Open alerts across the network, filtered by kind; and the thresholds that raise them, which
// administrators set.

import { useMemo, useState } from "preact/hooks";
import { Form, SelectField, TextField } from "../../shared/components/form";
import { ALERT_KINDS, api, type AlertKind, type AlertSettings } from "../api";
import { AlertTable } from "../components/AlertTable";
import { useHq } from "../context";
import { useTopicData } from "../hooks";

const SETTINGS: readonly (keyof AlertSettings)[] = [
  "offline_after_minutes",
  "backlog_limit",
  "price_not_applied_after_minutes",
  "low_stock_days",
];

export function AlertsScreen() {
  const { t } = useHq();
  const { data: alerts } = useTopicData(() => api.alerts(), ["alerts"], []);
  const [kind, setKind] = useState<AlertKind | "">("");
  const shown = useMemo(() => (alerts ?? []).filter((a) => kind === "" || a.kind === kind), [alerts, kind]);

  return (
    <div class="alerts">
      <h1>{t("alerts.title")}</h1>
      <section class="card">
        <div class="filters">
          <SelectField
            label={t("alerts.kind")}
            testId="alerts-filter-kind"
            value={kind}
            onValue={(value) => setKind(ALERT_KINDS.find((known) => known === value) ?? "")}
          >
            <option value="">{t("filter.all")}</option>
            {ALERT_KINDS.map((known) => (
              <option key={known} value={known}>
                {t(`alert_kind.${known}`)}
              </option>
            ))}
          </SelectField>
        </div>
        {alerts === null ? (
          <p class="muted">{t("common.loading")}</p>
        ) : (
          <AlertTable alerts={shown} testId="alerts-table" exportName="alerts" />
        )}
      </section>
      <AlertSettingsForm />
    </div>
  );
}

/** The thresholds; read-only but for administrators. */
function AlertSettingsForm() {
  const { t, can, run, notify } = useHq();
  const mayEdit = can("set_alert_settings");
  // What is typed, by setting; loaded again from the hub only while nothing is being edited.
  const [typed, setTyped] = useState<Partial<Record<keyof AlertSettings, string>>>({});
  const { data: settings, reload } = useTopicData(() => api.alertSettings(), ["alerts"], []);
  const [errors, setErrors] = useState<Partial<Record<keyof AlertSettings, string>>>({});

  const value = (name: keyof AlertSettings) => typed[name] ?? (settings === null ? "" : String(settings[name]));

  const save = async () => {
    const next: Partial<AlertSettings> = {};
    const found: Partial<Record<keyof AlertSettings, string>> = {};
    for (const name of SETTINGS) {
      const text = value(name).trim();
      if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) next[name] = Number(text);
      else found[name] = t("alert_settings.bad_number");
    }
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    const result = await run(() => api.setAlertSettings(next as AlertSettings));
    if (result.ok) {
      notify(t("alert_settings.saved"));
      setTyped({});
      reload();
    }
  };

  const fields = SETTINGS.map((name) => (
    <TextField
      key={name}
      label={t(`alert_settings.${name}`)}
      testId={`alert-settings-${name}`}
      inputMode="numeric"
      autoComplete="off"
      value={value(name)}
      onValue={(text) => setTyped((before) => ({ ...before, [name]: text }))}
      error={errors[name] ?? null}
    />
  ));

  return (
    <section class="card">
      <h2>{t("alert_settings.title")}</h2>
      {mayEdit ? (
        <Form class="row-form" onSubmit={save} submitLabel={t("common.save")} submitTestId="alert-settings-save">
          {fields}
        </Form>
      ) : (
        <>
          <p class="muted">{t("alert_settings.admin_only")}</p>
          <fieldset class="row-form" disabled>
            {fields}
          </fieldset>
        </>
      )}
    </section>
  );
}
