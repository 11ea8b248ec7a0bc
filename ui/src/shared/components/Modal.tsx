// Dialogs: a modal box that closes on Escape, the backdrop or ×, and a modal holding one form.

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Form, type FormProps } from "./form";

export function Modal(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  testId?: string;
  wide?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const close = useRef(props.onClose);
  close.current = props.onClose;
  useEffect(() => {
    const first = box.current?.querySelector<HTMLElement>("input, select, textarea, button.primary");
    first?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close.current();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div class="overlay" onClick={(event) => event.target === event.currentTarget && props.onClose()}>
      <div
        class={props.wide === true ? "dialog wide" : "dialog"}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        data-testid={props.testId}
        ref={box}
      >
        <header class="dialog-head">
          <h2>{props.title}</h2>
          <button type="button" class="icon" aria-label="×" onClick={props.onClose}>
            ×
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}

/** A modal whose body is one form, its submit button last. */
export function FormDialog(props: Omit<FormProps, "class"> & { title: string; onClose: () => void; testId?: string }) {
  const { title, onClose, testId, ...form } = props;
  return (
    <Modal title={title} onClose={onClose} testId={testId}>
      <Form class="stack" {...form} />
    </Modal>
  );
}
