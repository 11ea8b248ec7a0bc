// A station filter typed by id, with the registered stations offered as suggestions: the filter
// changes only once the text is empty or a known station, so typing does not ask the hub for
// every keystroke; an unknown id says so under the field.

import { useState } from "preact/hooks";
import { Field } from "../../shared/components/form";
import { api } from "../api";
import { useHq } from "../context";
import { useTopicData } from "../hooks";

export function StationFilter(props: { testId: string; onStation: (station: string) => void }) {
  const { t } = useHq();
  const { data: stations } = useTopicData(() => api.stations(), ["stations"], []);
  const [text, setText] = useState("");
  const typed = text.trim();
  const known = typed === "" || stations === null || stations.some((s) => s.station === typed);
  const listId = `${props.testId}-list`;

  return (
    <Field
      label={t("station.filter")}
      error={known ? null : t("station.filter_unknown")}
      errorTestId={`${props.testId}-error`}
    >
      <input
        type="search"
        list={listId}
        data-testid={props.testId}
        placeholder={t("filter.all")}
        autoComplete="off"
        value={text}
        onInput={(e) => {
          const value = e.currentTarget.value;
          setText(value);
          const id = value.trim();
          if (id === "" || stations === null || stations.some((s) => s.station === id)) props.onStation(id);
        }}
      />
      <datalist id={listId}>
        {(stations ?? []).map((s) => (
          <option key={s.station} value={s.station}>
            {s.name}
          </option>
        ))}
      </datalist>
    </Field>
  );
}
