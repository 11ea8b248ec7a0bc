// CSV files for download: RFC 4180 (CRLF line ends, a field quoted when it holds a comma, a
// quote or a line break, quotes doubled inside), starting with a UTF-8 byte order mark so that
// Excel reads Korean text right.

/** One cell: text as it is, a number as its digits (won and counts stay integers), null empty. */
export type CsvCell = string | number | null;

const BOM = "\uFEFF";

function field(cell: CsvCell): string {
  const text = cell === null ? "" : String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The file's text: the byte order mark, then one CRLF-ended record per row. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return BOM + rows.map((row) => `${row.map(field).join(",")}\r\n`).join("");
}

/** Offers rows as a CSV file download named `filename`, through a Blob link. */
export function downloadCsv(filename: string, rows: readonly (readonly CsvCell[])[]): void {
  const blob = new Blob([toCsv(rows)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the Blob once the download starts; the URL may go a while after.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
