// The error banner atop each app: the problem's title and text, its code in `data-code`, and ×.

/** What went wrong: an API error code (or a `ui.` code for the page's own) and its message. */
export interface Problem {
  code: string;
  message: string;
}

export function ErrorBanner(props: {
  problem: Problem;
  title: string;
  text: string;
  /** The server's own words, when the text is a translation of its code and they add to it. */
  detail?: string | null;
  /** Not a fault (the session ended): shown in the calmer colours. */
  info: boolean;
  closeLabel: string;
  testId: string;
  onClose: () => void;
}) {
  return (
    <div
      class={props.info ? "error-banner info" : "error-banner"}
      role="alert"
      data-testid={props.testId}
      data-code={props.problem.code}
    >
      <strong>{props.title}</strong> <span>{props.text}</span>
      {props.detail === undefined || props.detail === null ? null : <span class="banner-detail">{props.detail}</span>}
      <button type="button" class="icon" aria-label={props.closeLabel} onClick={props.onClose}>
        ×
      </button>
    </div>
  );
}
