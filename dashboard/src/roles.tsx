// Roles: the system roles (read only) and the organization's custom roles, made with a
// permission checklist (only what the user holds is offered: no escalation) and deleted.
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { can, grantableScopes } from "./permissions";
import { Field, Notice, RowAction, describedBy } from "./ui";

type Role = Schemas["RoleResponse"];
type Permission = Schemas["CreateRoleRequest"]["permissions"] extends (infer P)[] ? P : never;

export function RolesPage({ api, permissions }: { api: Api; permissions: readonly string[] }) {
  const [roles, setRoles] = useState<Role[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const writable = can(permissions, "roles:write");

  useEffect(() => {
    void (async () => {
      const { data, error, response } = await api.GET("/roles");
      if (data) setRoles(data.data);
      else setProblem(problemOf(error, response.status));
    })();
  }, []);

  async function remove(role: Role) {
    if (!window.confirm(`Delete the role ${role.name}? Users holding it lose its permissions.`)) return;
    const { error, response } = await api.DELETE("/roles/{role_id}", { params: { path: { role_id: role.id } } });
    if (error) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setRoles((shown) => shown.filter((r) => r.id !== role.id));
  }

  return (
    <section aria-labelledby="roles-title">
      <h1 id="roles-title">Roles</h1>
      {writable && <CreateRole api={api} offered={grantableScopes(permissions)} onCreated={(r) => setRoles((s) => [...s, r])} />}
      <Notice problem={problem} />
      <table>
        <caption class="visually-hidden">Roles of your organization</caption>
        <thead>
          <tr>
            <th scope="col">Role</th>
            <th scope="col">Permissions</th>
            {writable && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {roles.map((role) => (
            <tr key={role.id}>
              <td>
                {role.name} {role.system && <span class="status">system</span>}
                {role.description && <p class="hint">{role.description}</p>}
              </td>
              <td class="scopes">{role.permissions.join(" ")}</td>
              {writable && (
                <td>
                  {!role.system && (
                    <RowAction label="Delete" target={role.name} kind="danger" onClick={() => void remove(role)} />
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

function CreateRole(props: { api: Api; offered: string[]; onCreated: (role: Role) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const body = { name, permissions: chosen as Permission[], ...(description ? { description } : {}) };
    const { data, error, response } = await props.api.POST("/roles", { body });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setName("");
    setDescription("");
    setChosen([]);
    props.onCreated(data);
  }

  const errors = problem?.fields ?? {};
  return (
    <details class="panel">
      <summary>Create a role</summary>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Notice problem={problem} />
        <Field id="role-name" label="Name" error={errors.name}>
          <input
            id="role-name"
            value={name}
            aria-invalid={Boolean(errors.name)}
            aria-describedby={describedBy("role-name", errors.name)}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <Field id="role-description" label="Description (optional)" error={errors.description}>
          <input id="role-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <fieldset aria-describedby={errors.permissions ? "role-permissions-error" : undefined}>
          <legend>Permissions (you can give only what you hold)</legend>
          <div class="checklist">
            {props.offered.map((permission) => (
              <label key={permission}>
                <input
                  type="checkbox"
                  checked={chosen.includes(permission)}
                  onChange={(e) =>
                    setChosen((now) =>
                      e.currentTarget.checked ? [...now, permission] : now.filter((p) => p !== permission),
                    )
                  }
                />
                {permission}
              </label>
            ))}
          </div>
          {errors.permissions && (
            <p class="field-error" id="role-permissions-error" role="alert">
              {errors.permissions}
            </p>
          )}
        </fieldset>
        <button type="submit">Create role</button>
      </form>
    </details>
  );
}
