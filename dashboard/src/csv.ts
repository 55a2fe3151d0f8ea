// A csv file as the rows of a bulk_user_create job (docs/api.md §10's csv rules): a header row
// naming the fields, an empty cell leaves its field out, `metadata` is a JSON object and
// `send_welcome_email` is true or false. RFC 4180 quoting ("" inside quotes), CRLF or LF.

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((value) => value !== ""));
}

/** The rows as objects: the API checks each (its errors come back per row, by index). */
export function usersOf(text: string): Record<string, unknown>[] {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ""));
  if (!header) return [];
  const names = header.map((name) => name.trim());
  return rows.map((cells) => {
    const user: Record<string, unknown> = {};
    names.forEach((name, i) => {
      const value = cells[i] ?? "";
      if (value === "") return;
      if (name === "metadata") {
        try {
          user[name] = JSON.parse(value);
        } catch {
          user[name] = value; // the API names the row and the field
        }
      } else if (name === "send_welcome_email") user[name] = value.trim().toLowerCase() === "true";
      else user[name] = value;
    });
    return user;
  });
}
