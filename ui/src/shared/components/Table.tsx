// A plain data table: an optional header row, and the caller's rows as children.

import type { ComponentChildren } from "preact";

/** A column heading; `{ num }` marks a right-aligned number column, "" an empty heading. */
export type Column = string | { num: string };

export function Table(props: { columns?: Column[]; testId?: string; children: ComponentChildren }) {
  return (
    <table class="table" data-testid={props.testId}>
      {props.columns === undefined ? null : (
        <thead>
          <tr>
            {props.columns.map((column, index) =>
              typeof column === "string" ? (
                <th key={index}>{column}</th>
              ) : (
                <th key={index} class="num">
                  {column.num}
                </th>
              ),
            )}
          </tr>
        </thead>
      )}
      <tbody>{props.children}</tbody>
    </table>
  );
}
