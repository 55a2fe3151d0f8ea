// SSO connections: the organization's OpenID Connect identity providers (docs/openid-connect.md):
// listed, added (the provider is checked at once; its client secret is never shown again),
// deleted.
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { can } from "./permissions";
import { Field, Notice, RowAction, describedBy } from "./ui";

type Connection = Schemas["SsoConnectionResponse"];

/** "a.example, b.example" or one per line, as the API's list. */
export function domainsOf(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean);
}

export function SsoPage({ api, permissions }: { api: Api; permissions: readonly string[] }) {
  const [connections, setConnections] = useState<Connection[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const writable = can(permissions, "sso:write");

  useEffect(() => {
    void api.GET("/sso-connections", { params: { query: { limit: 100 } } }).then(({ data, error, response }) => {
      if (data) setConnections(data.data);
      else setProblem(problemOf(error, response.status));
    });
  }, []);

  async function remove(connection: Connection) {
    if (!window.confirm(`Delete ${connection.name}? Its users sign in with a password again, if they have one.`)) return;
    const { error, response } = await api.DELETE("/sso-connections/{connection_id}", {
      params: { path: { connection_id: connection.id } },
    });
    if (error) return setProblem(problemOf(error, response.status));
    setProblem(null);
    setConnections((shown) => shown.filter((c) => c.id !== connection.id));
  }

  return (
    <section aria-labelledby="sso-title">
      <h1 id="sso-title">SSO connections</h1>
      {writable && <AddConnection api={api} onAdded={(c) => setConnections((shown) => [c, ...shown])} />}
      <Notice problem={problem} />
      <table>
        <caption class="visually-hidden">SSO connections</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Issuer</th>
            <th scope="col">Domains</th>
            <th scope="col">New users</th>
            <th scope="col">Passwords</th>
            {writable && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {connections.map((connection) => (
            <tr key={connection.id}>
              <td>{connection.name}</td>
              <td>
                <code>{connection.issuer}</code>
              </td>
              <td>{connection.domains.join(", ")}</td>
              <td>{connection.jit_provisioning ? `made as ${connection.default_role}` : "not made"}</td>
              <td>{connection.enforce ? "refused" : "allowed"}</td>
              {writable && (
                <td>
                  <RowAction label="Delete" target={connection.name} kind="danger" onClick={() => void remove(connection)} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {connections.length === 0 && <p>No SSO connections.</p>}
    </section>
  );
}

function AddConnection(props: { api: Api; onAdded: (connection: Connection) => void }) {
  const [form, setForm] = useState({ name: "", issuer: "", client_id: "", client_secret: "", domains: "", default_role: "member" });
  const [jit, setJit] = useState(true);
  const [enforce, setEnforce] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body = {
      ...form,
      type: "oidc" as const,
      domains: domainsOf(form.domains),
      jit_provisioning: jit,
      enforce,
    };
    const { data, error, response } = await props.api.POST("/sso-connections", { body });
    if (!data) return setProblem(problemOf(error, response.status));
    setProblem(null);
    setForm({ name: "", issuer: "", client_id: "", client_secret: "", domains: "", default_role: "member" });
    props.onAdded(data);
  }

  const errors = problem?.fields ?? {};
  const text = (name: keyof typeof form, label: string, extra: Record<string, string> = {}) => (
    <Field id={`sso-${name}`} label={label} error={errors[name]}>
      <input
        id={`sso-${name}`}
        value={form[name]}
        aria-invalid={Boolean(errors[name])}
        aria-describedby={describedBy(`sso-${name}`, errors[name])}
        onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })}
        {...extra}
      />
    </Field>
  );
  return (
    <details class="panel">
      <summary>Add a connection</summary>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Notice problem={problem} />
        {text("name", "Name")}
        {text("issuer", "Issuer (the provider's URL)", { type: "url" })}
        {text("client_id", "Client id at the provider")}
        {text("client_secret", "Client secret at the provider", { type: "password", autoComplete: "off" })}
        {text("domains", "Email domains (comma-separated)")}
        {text("default_role", "Role of users made by sign-in")}
        <label class="check">
          <input type="checkbox" checked={jit} onChange={(e) => setJit(e.currentTarget.checked)} /> Make users at their
          first sign-in
        </label>
        <label class="check">
          <input type="checkbox" checked={enforce} onChange={(e) => setEnforce(e.currentTarget.checked)} /> Refuse
          passwords for these domains
        </label>
        <button type="submit">Add connection</button>
      </form>
    </details>
  );
}
