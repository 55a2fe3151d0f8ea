// One user, managed: roles with an optional expiry, resend the invitation, reset MFA, archive,
// and purge behind a typed confirmation. Each action is offered only with its permission.
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { can } from "./permissions";
import { Field, Notice, RowAction } from "./ui";

type User = Schemas["UserView"];
type Role = Schemas["RoleResponse"];

/** A datetime-local value as the API's UTC date-time (seconds, "Z"), or undefined when empty. */
export function expiryOf(local: string): string | undefined {
  return local ? new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined;
}

export function ManageUser(props: {
  api: Api;
  user: User;
  permissions: readonly string[];
  onChanged: (user: User | null) => void;
}) {
  const { api, user, permissions } = props;
  const [roles, setRoles] = useState<Role[]>([]);
  const [roleId, setRoleId] = useState("");
  const [expires, setExpires] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState("");
  const updatable = can(permissions, "users:update");

  useEffect(() => {
    if (!can(permissions, "roles:read")) return;
    void api.GET("/roles").then(({ data }) => data && setRoles(data.data));
  }, []);

  async function refresh(message: string) {
    setProblem(null);
    setNote(message);
    const { data } = await api.GET("/users/{user_id}", { params: { path: { user_id: user.id } } });
    if (data) props.onChanged(data);
  }

  async function assign(event: Event) {
    event.preventDefault();
    const expires_at = expiryOf(expires);
    const { error, response } = await api.POST("/users/{user_id}/roles", {
      params: { path: { user_id: user.id } },
      body: { role_id: roleId, ...(expires_at ? { expires_at } : {}) },
    });
    if (error) return setProblem(problemOf(error, response.status));
    setExpires("");
    await refresh(`The role was assigned${expires_at ? ` until ${expires_at}` : ""}.`);
  }

  async function unassign(role: { id: string; name: string }) {
    const { error, response } = await api.DELETE("/users/{user_id}/roles/{role_id}", {
      params: { path: { user_id: user.id, role_id: role.id } },
    });
    if (error) return setProblem(problemOf(error, response.status));
    await refresh(`${role.name} was removed.`);
  }

  async function call(message: string, run: () => Promise<{ error?: unknown; response: Response }>) {
    const { error, response } = await run();
    if (error) return setProblem(problemOf(error, response.status));
    await refresh(message);
  }

  async function purge(event: Event) {
    event.preventDefault();
    const { error, response } = await api.DELETE("/users/{user_id}", {
      params: { path: { user_id: user.id }, query: { force: true } },
    });
    if (error) return setProblem(problemOf(error, response.status));
    props.onChanged(null);
  }

  const path = { path: { user_id: user.id } };
  const errors = problem?.fields ?? {};
  return (
    <section class="panel" aria-labelledby="manage-title">
      <h2 id="manage-title">
        {user.name} <span class="hint">{user.email}</span>
      </h2>
      <Notice problem={problem} />
      <p role="status" class="done">
        {note}
      </p>
      <h3>Roles</h3>
      <ul>
        {(user.roles ?? []).map((role) => (
          <li key={role.id}>
            {role.name}
            {role.expires_at ? `, until ${role.expires_at.replace("T", " ")}` : ""}{" "}
            {updatable && (
              <RowAction label="Remove" target={role.name} kind="secondary" onClick={() => void unassign(role)} />
            )}
          </li>
        ))}
      </ul>
      {updatable && roles.length > 0 && (
        <form class="inline" onSubmit={(e) => void assign(e)}>
          <Field id="assign-role" label="Role to assign" error={errors.role_id}>
            <select id="assign-role" value={roleId} onChange={(e) => setRoleId(e.currentTarget.value)}>
              <option value="">Choose a role</option>
              {roles.map((role) => (
                <option key={role.id} value={role.id}>
                  {role.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="assign-expires" label="Until (optional)" error={errors.expires_at}>
            <input id="assign-expires" type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
          </Field>
          <button type="submit" disabled={!roleId}>
            Assign role
          </button>
        </form>
      )}
      {updatable && (
        <>
          <h3>Account</h3>
          {user.status === "pending_verification" && (
            <button type="button" onClick={() => void call("The invitation was sent again.", () => api.POST("/users/{user_id}/verification", { params: path }))}>
              Resend invitation
            </button>
          )}
          {user.mfa_enabled && (
            <button type="button" onClick={() => void call("Every second factor was removed.", () => api.DELETE("/users/{user_id}/mfa", { params: path }))}>
              Reset MFA
            </button>
          )}
        </>
      )}
      {can(permissions, "users:delete") && (
        <>
          {user.status !== "archived" && (
            <button type="button" class="danger" onClick={() => void call("The user was archived.", () => api.DELETE("/users/{user_id}", { params: path }))}>
              Archive
            </button>
          )}
          <form onSubmit={(e) => void purge(e)}>
            <Field id="purge-confirm" label={`Purge for good: type ${user.email} to confirm`}>
              <input id="purge-confirm" value={confirmation} autoComplete="off" onInput={(e) => setConfirmation(e.currentTarget.value)} />
            </Field>
            <button type="submit" class="danger" disabled={confirmation !== user.email}>
              Purge
            </button>
          </form>
        </>
      )}
    </section>
  );
}
