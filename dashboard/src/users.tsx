// Users: search as you type, filters, sorts, cursor paging, create, suspend and activate.
import { useEffect, useRef, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { can } from "./permissions";
import { ManageUser } from "./manage";
import { Field, Notice, RowAction, describedBy } from "./ui";

type User = Schemas["UserView"];
type Status = "" | "pending_verification" | "active" | "suspended" | "archived";
type Sort = "created_at" | "name" | "email" | "last_login";

const PAGE_SIZE = 20;

export function UsersPage(props: { api: Api; permissions: readonly string[]; selfId: string }) {
  const { api, permissions, selfId } = props;
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState<Status>("");
  const [sort, setSort] = useState<Sort>("created_at");
  const [order, setOrder] = useState<"asc" | "desc">("desc");
  const [users, setUsers] = useState<User[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<User | null>(null);
  const generation = useRef(0);

  async function load(after: string | null) {
    const mine = ++generation.current;
    setLoading(true);
    const query = {
      limit: PAGE_SIZE,
      ...(after ? { cursor: after } : {}),
      ...(search.trim().length >= 2 ? { search: search.trim() } : {}),
      ...(status ? { status } : {}),
      sort,
      order,
    };
    const { data, error, response } = await api.GET("/users", { params: { query } });
    if (mine !== generation.current) return; // a newer search answered first
    setLoading(false);
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setUsers((shown) => (after ? [...shown, ...data.data] : data.data));
    setCursor(data.pagination.has_more ? data.pagination.next_cursor : null);
  }

  useEffect(() => {
    const timer = window.setTimeout(() => void load(null), search ? 250 : 0);
    return () => window.clearTimeout(timer);
  }, [search, status, sort, order]);

  async function setUserStatus(user: User, action: "deactivate" | "activate") {
    const params = { path: { user_id: user.id } };
    const { data, error, response } =
      action === "deactivate"
        ? await api.POST("/users/{user_id}/deactivate", { params })
        : await api.POST("/users/{user_id}/activate", { params });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setUsers((shown) => shown.map((u) => (u.id === user.id ? { ...u, status: data.status } : u)));
  }

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      {can(permissions, "users:create") && (
        <CreateUser api={api} onCreated={(user) => setUsers((shown) => [user, ...shown])} />
      )}
      <div class="filters" role="search">
        <Field id="user-search" label="Search" hint="Email, name, or any word of either (2 letters or more)">
          <input
            id="user-search"
            type="search"
            value={search}
            aria-describedby="user-search-hint"
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </Field>
        <Field id="user-status" label="Status">
          <select id="user-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as Status)}>
            <option value="">Any (not archived)</option>
            <option value="active">Active</option>
            <option value="pending_verification">Pending verification</option>
            <option value="suspended">Suspended</option>
            <option value="archived">Archived</option>
          </select>
        </Field>
        <Field id="user-sort" label="Sort by">
          <select id="user-sort" value={sort} onChange={(e) => setSort(e.currentTarget.value as Sort)}>
            <option value="created_at">Created</option>
            <option value="name">Name</option>
            <option value="email">Email</option>
            <option value="last_login">Last sign-in</option>
          </select>
        </Field>
        <Field id="user-order" label="Order">
          <select id="user-order" value={order} onChange={(e) => setOrder(e.currentTarget.value as "asc" | "desc")}>
            <option value="desc">Newest / Z first</option>
            <option value="asc">Oldest / A first</option>
          </select>
        </Field>
      </div>
      <Notice problem={problem} />
      {selected && (
        <ManageUser
          key={selected.id}
          api={api}
          user={selected}
          permissions={permissions}
          onChanged={(changed) => {
            setSelected(changed);
            setUsers((shown) =>
              changed
                ? shown.map((u) => (u.id === changed.id ? changed : u))
                : shown.filter((u) => u.id !== selected.id),
            );
          }}
        />
      )}
      <table aria-busy={loading}>
        <caption class="visually-hidden">Users of your organization</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Status</th>
            <th scope="col">Roles</th>
            <th scope="col">MFA</th>
            {can(permissions, "users:update") && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id}>
              <td>
                <button type="button" class="link" onClick={() => setSelected(user)}>
                  {user.name}
                </button>
              </td>
              <td>{user.email}</td>
              <td>
                <span class={`status status-${user.status}`}>{(user.status ?? "").replace("_", " ")}</span>
              </td>
              <td>{(user.roles ?? []).map((role) => role.name).join(", ")}</td>
              <td>{user.mfa_enabled ? "On" : "Off"}</td>
              {can(permissions, "users:update") && (
                <td>
                  {user.status === "active" && user.id !== selfId && (
                    <RowAction label="Suspend" target={user.email ?? ""} onClick={() => void setUserStatus(user, "deactivate")} />
                  )}
                  {user.status === "suspended" && (
                    <RowAction label="Activate" target={user.email ?? ""} onClick={() => void setUserStatus(user, "activate")} />
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && users.length === 0 && <p>No users match.</p>}
      {cursor && (
        <button type="button" onClick={() => void load(cursor)} disabled={loading}>
          Load more
        </button>
      )}
    </section>
  );
}

function CreateUser({ api, onCreated }: { api: Api; onCreated: (user: User) => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("member");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");

  async function submit(event: Event) {
    event.preventDefault();
    setDone("");
    const body = { email, name, role, ...(password ? { password } : {}) };
    const { data, error, response } = await api.POST("/users", { body });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setDone(`${data.email} was created${password ? "" : " and sent a verification email"}.`);
    setEmail("");
    setName("");
    setPassword("");
    onCreated(data as User);
  }

  const errors = problem?.fields ?? {};
  return (
    <details class="panel">
      <summary>Create a user</summary>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Notice problem={problem} />
        <Field id="new-email" label="Email" error={errors.email}>
          <input
            id="new-email"
            type="email"
            required
            value={email}
            aria-invalid={Boolean(errors.email)}
            aria-describedby={describedBy("new-email", errors.email)}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </Field>
        <Field id="new-name" label="Name" error={errors.name}>
          <input
            id="new-name"
            required
            value={name}
            aria-invalid={Boolean(errors.name)}
            aria-describedby={describedBy("new-name", errors.name)}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <Field id="new-role" label="Role" error={errors.role} hint="A role id, or admin, developer, member, viewer">
          <input
            id="new-role"
            value={role}
            aria-invalid={Boolean(errors.role)}
            aria-describedby={describedBy("new-role", errors.role, true)}
            onInput={(e) => setRole(e.currentTarget.value)}
          />
        </Field>
        <Field
          id="new-password"
          label="Password (optional)"
          error={errors.password}
          hint="Leave empty to send a verification email that lets the user choose one"
        >
          <input
            id="new-password"
            type="password"
            autoComplete="new-password"
            value={password}
            aria-invalid={Boolean(errors.password)}
            aria-describedby={describedBy("new-password", errors.password, true)}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <button type="submit">Create user</button>
        {done && (
          <p class="done" role="status">
            {done}
          </p>
        )}
      </form>
    </details>
  );
}
