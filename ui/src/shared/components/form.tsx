// Form pieces: a form that ends in its submit button, labelled inputs and toggle buttons.

import type { ComponentChildren, InputHTMLAttributes } from "preact";

export interface FormProps {
  class: string;
  /** Called on submit; the browser's own submission is prevented. */
  onSubmit: () => unknown;
  submitLabel: string;
  submitTestId: string;
  /** A red submit button, for cancelling things. */
  danger?: boolean;
  /** Disables the submit button (while a request runs). */
  busy?: boolean;
  children: ComponentChildren;
}

export function Form(props: FormProps) {
  return (
    <form
      class={props.class}
      onSubmit={(event) => {
        event.preventDefault();
        void props.onSubmit();
      }}
    >
      {props.children}
      <button
        type="submit"
        class={props.danger === true ? "danger big" : "primary big"}
        data-testid={props.submitTestId}
        disabled={props.busy}
      >
        {props.submitLabel}
      </button>
    </form>
  );
}

/** A label over its control; with `error`, the message under it (its test id `<errorTestId>`). */
export function Field(props: {
  label: string;
  children: ComponentChildren;
  error?: string | null;
  errorId?: string;
  errorTestId?: string;
}) {
  const error = props.error ?? null;
  return (
    <label class={error === null ? "field" : "field invalid"}>
      <span>{props.label}</span>
      {props.children}
      {error === null ? null : (
        <span class="field-error" id={props.errorId} role="alert" data-testid={props.errorTestId}>
          {error}
        </span>
      )}
    </label>
  );
}

/**
 * A labelled text input bound to a string. With `error`, the input is marked invalid and the
 * message shows under it (test id `<testId>-error`).
 */
export function TextField(props: {
  label: string;
  testId: string;
  value: string;
  onValue: (value: string) => void;
  type?: "password" | "date" | "datetime-local" | "search" | "number";
  inputMode?: "numeric" | "decimal";
  autoComplete?: string;
  autoFocus?: boolean;
  placeholder?: string;
  maxLength?: number;
  error?: string | null;
}) {
  const { label, testId, onValue, error = null, ...input } = props;
  // Preact types an input's attributes per `type`; through a spread it cannot tell that these
  // few suit every type allowed here.
  const attributes = input as InputHTMLAttributes;
  const errorId = `${testId}-error`;
  return (
    <Field label={label} error={error} errorId={errorId} errorTestId={errorId}>
      <input
        data-testid={testId}
        {...attributes}
        aria-invalid={error === null ? undefined : true}
        aria-describedby={error === null ? undefined : errorId}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </Field>
  );
}

/** A labelled select bound to a string; the options are its children. */
export function SelectField(props: {
  label: string;
  testId: string;
  value: string;
  onValue: (value: string) => void;
  children: ComponentChildren;
}) {
  return (
    <Field label={props.label}>
      <select data-testid={props.testId} value={props.value} onChange={(e) => props.onValue(e.currentTarget.value)}>
        {props.children}
      </select>
    </Field>
  );
}

/** One of a few exclusive options, pressed when active: a wide "choice" or a small "chip". */
export function ChoiceButton(props: {
  active: boolean;
  onClick: () => void;
  testId: string;
  chip?: boolean;
  children: ComponentChildren;
}) {
  const kind = props.chip === true ? "chip" : "choice";
  return (
    <button
      type="button"
      data-testid={props.testId}
      class={props.active ? `${kind} active` : kind}
      aria-pressed={props.active}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}
