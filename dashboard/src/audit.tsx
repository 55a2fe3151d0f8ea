// The audit log: newest first, filtered by actor, target, action and time; an actor or target
// is a link that filters by it.
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { Field, Notice } from "./ui";

type Entry = Schemas["AuditEntryResponse"];

export interface AuditFilter {
  actor_id: string;
  target_id: string;
  action: string;
  since: string; // datetime-local input values
  until: string;
}

const EMPTY: AuditFilter = { actor_id: "", target_id: "", action: "", since: "", until: "" };

/** The filter as the API's query (datetime-local values are local times; the API takes UTC). */
export function auditQuery(filter: AuditFilter): Record<string, string> {
  const query: Record<string, string> = {};
  for (const name of ["actor_id", "target_id", "action"] as const) if (filter[name].trim()) query[name] = filter[name].trim();
  for (const name of ["since", "until"] as const) {
    if (filter[name]) query[name] = new Date(filter[name]).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  return query;
}

/** A change as one line: "name: from → to", or the value the action carried. */
export function changeText(changes: Entry["changes"]): string {
  return Object.entries(changes)
    .map(([name, change]) => {
      if (change && typeof change === "object" && !Array.isArray(change) && "from" in change && "to" in change) {
        return `${name}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`;
      }
      return `${name}: ${JSON.stringify(change)}`;
    })
    .join("; ");
}

export function AuditPage({ api }: { api: Api }) {
  const [filter, setFilter] = useState<AuditFilter>(EMPTY);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function load(after: string | null) {
    const query = { limit: 50, ...auditQuery(filter), ...(after ? { cursor: after } : {}) };
    const { data, error, response } = await api.GET("/audit-log", { params: { query } });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setEntries((shown) => (after ? [...shown, ...data.data] : data.data));
    setCursor(data.pagination.has_more ? data.pagination.next_cursor : null);
  }

  useEffect(() => {
    const timer = window.setTimeout(() => void load(null), 250);
    return () => window.clearTimeout(timer);
  }, [filter]);

  const set = (name: keyof AuditFilter) => (e: { currentTarget: HTMLInputElement }) =>
    setFilter({ ...filter, [name]: e.currentTarget.value });
  const errors = problem?.fields ?? {};
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <div class="filters" role="search">
        <Field id="audit-action" label="Action" error={errors.action}>
          <input id="audit-action" value={filter.action} placeholder="user.updated" onInput={set("action")} />
        </Field>
        <Field id="audit-actor" label="Actor id" error={errors.actor_id}>
          <input id="audit-actor" value={filter.actor_id} onInput={set("actor_id")} />
        </Field>
        <Field id="audit-target" label="Target id" error={errors.target_id}>
          <input id="audit-target" value={filter.target_id} onInput={set("target_id")} />
        </Field>
        <Field id="audit-since" label="Since" error={errors.since}>
          <input id="audit-since" type="datetime-local" value={filter.since} onInput={set("since")} />
        </Field>
        <Field id="audit-until" label="Until" error={errors.until}>
          <input id="audit-until" type="datetime-local" value={filter.until} onInput={set("until")} />
        </Field>
        <button type="button" class="secondary" onClick={() => setFilter(EMPTY)}>
          Clear filters
        </button>
      </div>
      <Notice problem={problem} />
      <table>
        <caption class="visually-hidden">Audit entries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When (UTC)</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Changes</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td>{entry.created_at.replace("T", " ").replace("Z", "")}</td>
              <td>
                <button type="button" class="link" onClick={() => setFilter({ ...EMPTY, actor_id: entry.actor.id })}>
                  {entry.actor.type} {entry.actor.id}
                </button>
              </td>
              <td>
                <code>{entry.action}</code>
              </td>
              <td>
                <button type="button" class="link" onClick={() => setFilter({ ...EMPTY, target_id: entry.target.id })}>
                  {entry.target.type} {entry.target.id}
                </button>
              </td>
              <td class="changes">{changeText(entry.changes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === 0 && !problem && <p>No entries match.</p>}
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Load more
        </button>
      )}
    </section>
  );
}
