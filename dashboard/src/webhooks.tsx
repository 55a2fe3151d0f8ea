// Webhooks: endpoints (create with the events they want, the signing secret shown once, rotate
// it, send a test, pause, delete) and the event log with each delivery attempt's status,
// timing and error; failed events can be redelivered or acknowledged. While an event is still
// being delivered, the log refreshes itself.
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { can } from "./permissions";
import { Field, Notice, RowAction, SecretOnce, describedBy } from "./ui";

type Webhook = Schemas["WebhookResponse"];
type WebhookEvent = Schemas["EventResponse"];
type EventType = Schemas["CreateWebhookRequest"]["events"] extends (infer T)[] ? T : never;

export const EVENT_TYPES: EventType[] = [
  "user.created",
  "user.updated",
  "user.activated",
  "user.deactivated",
  "user.deleted",
  "user.login",
  "user.password_changed",
  "role.assigned",
  "role.removed",
  "job.completed",
  "job.failed",
];
const POLL_MS = 2000;

/** One attempt in words: "#2 500 in 12 ms: the error". */
export function attemptText(attempt: Schemas["DeliveryAttempt"]): string {
  const status = attempt.status_code ? String(attempt.status_code) : "no answer";
  return `#${attempt.attempt} ${status} in ${attempt.response_time_ms} ms${attempt.error ? `: ${attempt.error}` : ""}`;
}

export function WebhooksPage({ api, permissions }: { api: Api; permissions: readonly string[] }) {
  const [hooks, setHooks] = useState<Webhook[]>([]);
  const [events, setEvents] = useState<WebhookEvent[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [note, setNote] = useState("");
  const writable = can(permissions, "webhooks:write");

  async function loadHooks() {
    const { data, error, response } = await api.GET("/webhooks", { params: { query: { limit: 100 } } });
    if (data) setHooks(data.data);
    else setProblem(problemOf(error, response.status));
  }

  async function loadEvents() {
    const { data, error, response } = await api.GET("/webhooks/events", { params: { query: { limit: 25 } } });
    if (data) setEvents(data.data);
    else setProblem(problemOf(error, response.status));
  }

  useEffect(() => {
    void loadHooks();
    void loadEvents();
  }, []);

  const delivering = events.some((event) => event.status === "pending");
  useEffect(() => {
    if (!delivering) return;
    const timer = window.setInterval(() => void loadEvents(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [delivering]);

  async function act(what: string, call: () => Promise<{ error?: unknown; response: Response }>) {
    const { error, response } = await call();
    if (error) {
      setProblem(problemOf(error, response.status));
      return false;
    }
    setProblem(null);
    setNote(what);
    return true;
  }

  async function rotate(hook: Webhook) {
    if (!window.confirm(`Rotate the signing secret of ${hook.url}? Deliveries are signed with the new one at once.`)) return;
    const { data, error, response } = await api.POST("/webhooks/{webhook_id}/rotate-secret", {
      params: { path: { webhook_id: hook.id } },
    });
    if (!data) return setProblem(problemOf(error, response.status));
    setSecret({ url: hook.url, secret: data.secret });
  }

  async function test(hook: Webhook) {
    const path = { webhook_id: hook.id };
    if (await act(`A test event was sent to ${hook.url}.`, () => api.POST("/webhooks/{webhook_id}/test", { params: { path } })))
      await loadEvents();
  }

  async function setActive(hook: Webhook, active: boolean) {
    const path = { webhook_id: hook.id };
    const done = await act(active ? "Resumed." : "Paused.", () =>
      api.PATCH("/webhooks/{webhook_id}", { params: { path }, body: { active } }),
    );
    if (done) setHooks((shown) => shown.map((h) => (h.id === hook.id ? { ...h, active } : h)));
  }

  async function remove(hook: Webhook) {
    if (!window.confirm(`Delete the endpoint ${hook.url}?`)) return;
    const path = { webhook_id: hook.id };
    if (await act("Deleted.", () => api.DELETE("/webhooks/{webhook_id}", { params: { path } })))
      setHooks((shown) => shown.filter((h) => h.id !== hook.id));
  }

  async function redeliver(event: WebhookEvent) {
    const path = { event_id: event.id };
    if (await act(`${event.id} is being delivered again.`, () => api.POST("/webhooks/events/{event_id}/redeliver", { params: { path } })))
      await loadEvents();
  }

  async function acknowledge(event: WebhookEvent) {
    const path = { event_id: event.id };
    if (await act(`${event.id} is acknowledged.`, () => api.POST("/webhooks/events/{event_id}/acknowledge", { params: { path } })))
      await loadEvents();
  }

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      {writable && (
        <CreateWebhook
          api={api}
          onCreated={(hook, value) => {
            setHooks((shown) => [hook, ...shown]);
            setSecret({ url: hook.url, secret: value });
          }}
        />
      )}
      {secret && (
        <SecretOnce
          id="webhook-secret"
          title={`The signing secret of ${secret.url}`}
          warning="Copy it now: it is not shown again. Verify each delivery's signature with it."
          secret={secret.secret}
          onDone={() => setSecret(null)}
        />
      )}
      <Notice problem={problem} />
      <p role="status" class="done">
        {note}
      </p>
      <h2>Endpoints</h2>
      <table>
        <caption class="visually-hidden">Webhook endpoints</caption>
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col">Events</th>
            <th scope="col">State</th>
            {writable && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {hooks.map((hook) => (
            <tr key={hook.id}>
              <td>
                <code>{hook.url}</code>
              </td>
              <td class="scopes">{hook.events.join(" ")}</td>
              <td>{hook.active ? "Active" : "Paused"}</td>
              {writable && (
                <td>
                  <RowAction label="Send test" target={`to ${hook.url}`} onClick={() => void test(hook)} />
                  <button type="button" class="small" onClick={() => void setActive(hook, !hook.active)}>
                    {hook.active ? "Pause" : "Resume"} <span class="visually-hidden">{hook.url}</span>
                  </button>
                  <RowAction label="Rotate secret" target={`of ${hook.url}`} onClick={() => void rotate(hook)} />
                  <RowAction label="Delete" target={hook.url} kind="danger" onClick={() => void remove(hook)} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {hooks.length === 0 && <p>No endpoints yet.</p>}
      <h2>
        Events{" "}
        <button type="button" class="small secondary" onClick={() => void loadEvents()}>
          Refresh
        </button>
      </h2>
      <table aria-live="polite">
        <caption class="visually-hidden">Events, newest first, with their delivery attempts</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Delivery attempts</th>
            {writable && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id}>
              <td>
                <code>{event.id}</code>
                <p class="hint">{event.created_at.replace("T", " ").replace("Z", " UTC")}</p>
              </td>
              <td>
                <code>{event.type}</code>
              </td>
              <td>
                <span class={`status status-${event.status}`}>{event.status}</span>
                {event.next_retry_at && <p class="hint">next try {event.next_retry_at.replace("T", " ")}</p>}
              </td>
              <td>
                <ol class="attempts">
                  {event.delivery_attempts.map((attempt) => (
                    <li key={`${attempt.webhook_id}-${attempt.attempt}-${attempt.timestamp}`}>{attemptText(attempt)}</li>
                  ))}
                </ol>
              </td>
              {writable && (
                <td>
                  {event.status === "failed" && (
                    <>
                      <RowAction label="Redeliver" target={event.id} onClick={() => void redeliver(event)} />
                      <RowAction label="Acknowledge" target={event.id} kind="secondary" onClick={() => void acknowledge(event)} />
                    </>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function CreateWebhook(props: { api: Api; onCreated: (hook: Webhook, secret: string) => void }) {
  const [url, setUrl] = useState("");
  const [chosen, setChosen] = useState<EventType[]>([]);
  const [description, setDescription] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body = { url, events: chosen, ...(description ? { description } : {}) };
    const { data, error, response } = await props.api.POST("/webhooks", { body });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setUrl("");
    setChosen([]);
    setDescription("");
    props.onCreated(data, data.secret);
  }

  const errors = problem?.fields ?? {};
  return (
    <details class="panel">
      <summary>Add an endpoint</summary>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Notice problem={problem} />
        <Field id="hook-url" label="URL" error={errors.url} hint="https, reachable from the internet">
          <input
            id="hook-url"
            type="url"
            value={url}
            aria-invalid={Boolean(errors.url)}
            aria-describedby={describedBy("hook-url", errors.url, true)}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        </Field>
        <Field id="hook-description" label="Description (optional)" error={errors.description}>
          <input id="hook-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <fieldset aria-describedby={errors.events ? "hook-events-error" : undefined}>
          <legend>Events</legend>
          <div class="checklist">
            {EVENT_TYPES.map((type) => (
              <label key={type}>
                <input
                  type="checkbox"
                  checked={chosen.includes(type)}
                  onChange={(e) =>
                    setChosen((now) => (e.currentTarget.checked ? [...now, type] : now.filter((t) => t !== type)))
                  }
                />
                {type}
              </label>
            ))}
          </div>
          {errors.events && (
            <p class="field-error" id="hook-events-error" role="alert">
              {errors.events}
            </p>
          )}
        </fieldset>
        <button type="submit">Add endpoint</button>
      </form>
    </details>
  );
}
