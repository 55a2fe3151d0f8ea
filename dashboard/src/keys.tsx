// API keys (the organization's clients): create with scopes, the secret shown once with a copy
// button, rotate, delete. The dashboard's own client is shown, not offered for change.
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { can, grantableScopes } from "./permissions";
import { Field, Notice, RowAction, SecretOnce, describedBy } from "./ui";

type Client = Schemas["ClientResponse"];
type Scope = Schemas["CreateClientRequest"]["scopes"] extends (infer S)[] | undefined ? S : never;

export function KeysPage({ api, permissions }: { api: Api; permissions: readonly string[] }) {
  const [clients, setClients] = useState<Client[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [secret, setSecret] = useState<{ client: string; secret: string } | null>(null);
  const writable = can(permissions, "clients:write");

  async function load(after: string | null) {
    const query = { limit: 50, ...(after ? { cursor: after } : {}) };
    const { data, error, response } = await api.GET("/clients", { params: { query } });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setClients((shown) => (after ? [...shown, ...data.data] : data.data));
    setCursor(data.pagination.has_more ? data.pagination.next_cursor : null);
  }

  useEffect(() => void load(null), []);

  async function rotate(client: Client) {
    if (!window.confirm(`Rotate the secret of ${client.name}? The current secret stops working at once.`)) return;
    const { data, error, response } = await api.POST("/clients/{client_id}/rotate-secret", {
      params: { path: { client_id: client.id } },
    });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setSecret({ client: client.name, secret: data.client_secret ?? "" });
  }

  async function remove(client: Client) {
    if (!window.confirm(`Delete ${client.name}? Its tokens stop working.`)) return;
    const { error, response } = await api.DELETE("/clients/{client_id}", {
      params: { path: { client_id: client.id } },
    });
    if (error) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setClients((shown) => shown.filter((c) => c.id !== client.id));
  }

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      <p>
        An API key is a client of your organization: its id and secret get tokens from <code>/auth/token</code> with
        the client credentials grant.
      </p>
      {writable && (
        <CreateKey
          api={api}
          scopes={grantableScopes(permissions)}
          onCreated={(client, value) => {
            setClients((shown) => [client, ...shown]);
            setSecret({ client: client.name, secret: value });
          }}
        />
      )}
      {secret && (
        <SecretOnce
          id="client-secret"
          title={`The secret of ${secret.client}`}
          warning="Copy it now: it is not shown again. Anyone with it can act as this key."
          secret={secret.secret}
          onDone={() => setSecret(null)}
        />
      )}
      <Notice problem={problem} />
      <table>
        <caption class="visually-hidden">API keys of your organization</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Client id</th>
            <th scope="col">Scopes</th>
            {writable && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {clients.map((client) => (
            <tr key={client.id}>
              <td>{client.name}</td>
              <td>
                <code>{client.id}</code>
              </td>
              <td class="scopes">{client.scopes.join(" ")}</td>
              {writable && (
                <td>
                  {client.dashboard ? (
                    <span class="hint">This dashboard</span>
                  ) : (
                    <>
                      {!client.public && (
                        <RowAction label="Rotate secret" target={`of ${client.name}`} onClick={() => void rotate(client)} />
                      )}
                      <RowAction label="Delete" target={client.name} kind="danger" onClick={() => void remove(client)} />
                    </>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Load more
        </button>
      )}
    </section>
  );
}

function CreateKey(props: { api: Api; scopes: string[]; onCreated: (client: Client, secret: string) => void }) {
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body = { name, scopes: chosen as Scope[], grant_types: ["client_credentials" as const] };
    const { data, error, response } = await props.api.POST("/clients", { body });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setName("");
    setChosen([]);
    props.onCreated(data, data.client_secret ?? "");
  }

  const errors = problem?.fields ?? {};
  return (
    <details class="panel">
      <summary>Create an API key</summary>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Notice problem={problem} />
        <Field id="key-name" label="Name" error={errors.name}>
          <input
            id="key-name"
            required
            value={name}
            aria-invalid={Boolean(errors.name)}
            aria-describedby={describedBy("key-name", errors.name)}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <fieldset aria-describedby={errors.scopes ? "key-scopes-error" : undefined}>
          <legend>Scopes (you can give only what you hold)</legend>
          <div class="checklist">
            {props.scopes.map((scope) => (
              <label key={scope}>
                <input
                  type="checkbox"
                  value={scope}
                  checked={chosen.includes(scope)}
                  onChange={(e) =>
                    setChosen((now) =>
                      e.currentTarget.checked ? [...now, scope] : now.filter((other) => other !== scope),
                    )
                  }
                />
                {scope}
              </label>
            ))}
          </div>
          {errors.scopes && (
            <p class="field-error" id="key-scopes-error" role="alert">
              {errors.scopes}
            </p>
          )}
        </fieldset>
        <button type="submit">Create API key</button>
      </form>
    </details>
  );
}
