// The developer dashboard (docs/dashboard.md): signs in with the organization's dashboard client
// and does everything through the public API with the signed-in user's token.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { type Schemas, apiClient } from "./api";
import { AuditPage } from "./audit";
import { apiRoot, dashboardUrl, isOrgId } from "./auth";
import { problemOf } from "./errors";
import { JobsPage } from "./jobs";
import { KeysPage } from "./keys";
import { PAGES, type Page, pageOf, pagesFor } from "./permissions";
import { RolesPage } from "./roles";
import { SecurityPage } from "./security";
import { SsoPage } from "./sso";
import { beginSignIn, completeSignIn, isSignedIn, lastOrg, signOut } from "./session";
import "./style.css";
import { UsersPage } from "./users";
import { WebhooksPage } from "./webhooks";

const root = apiRoot(window.location.href);
const here = dashboardUrl(root);
const api = apiClient(root);
type Me = Schemas["UserView"];

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [checked, setChecked] = useState(false);
  const [hash, setHash] = useState(window.location.hash);

  useEffect(() => {
    // Pages are "#/users", "#/keys"; any other fragment (the skip link's "#main") is not a page.
    const follow = () => window.location.hash.startsWith("#/") && setHash(window.location.hash);
    window.addEventListener("hashchange", follow);
    void (async () => {
      const query = new URLSearchParams(window.location.search);
      if (query.has("code") || query.has("error")) setProblem(await completeSignIn(root));
      if (isSignedIn()) {
        const { data, error, response } = await api.GET("/users/me", { params: { query: { include: "permissions" } } });
        if (data) setMe(data);
        else setProblem(problemOf(error, response.status).message);
      }
      setChecked(true);
    })();
    return () => window.removeEventListener("hashchange", follow);
  }, []);

  // make bench reads this mark: when the first page can be used (docs/performance.md).
  useEffect(() => {
    if (checked) performance.mark("dashboard-ready");
  }, [checked]);

  if (!checked) return <p class="loading">Loading…</p>;
  if (!me) return <SignIn problem={problem} />;
  const permissions = me.permissions ?? [];
  const allowed = pagesFor(permissions);
  const page = pageOf(hash, allowed);
  return (
    <div class="shell">
      <header>
        <a class="skip" href={`${here}#main`}>
          Skip to content
        </a>
        <span class="brand">Developer Dashboard</span>
        <nav aria-label="Pages">
          {PAGES.filter((entry) => allowed.includes(entry.page)).map((entry) => (
            // Absolute: the page's <base> points at its files, and would turn "#/…" into another page.
            <a key={entry.page} href={`${here}#/${entry.page}`} aria-current={entry.page === page ? "page" : undefined}>
              {entry.title}
            </a>
          ))}
        </nav>
        <span class="who">{me.email}</span>
        <button type="button" class="secondary" onClick={() => void signOut(root)}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Content page={page} permissions={permissions} me={me} />
      </main>
    </div>
  );
}

function Content({ page, permissions, me }: { page: Page | null; permissions: string[]; me: Me }) {
  if (page === "users") return <UsersPage api={api} permissions={permissions} selfId={me.id} />;
  if (page === "security") return <SecurityPage api={api} me={me} />;
  if (page === "keys") return <KeysPage api={api} permissions={permissions} />;
  if (page === "roles") return <RolesPage api={api} permissions={permissions} />;
  if (page === "audit") return <AuditPage api={api} />;
  if (page === "webhooks") return <WebhooksPage api={api} permissions={permissions} />;
  if (page === "jobs") return <JobsPage api={api} permissions={permissions} />;
  if (page === "sso") return <SsoPage api={api} permissions={permissions} />;
  return <p>Your account has no permission any page of the dashboard needs. Ask an administrator.</p>;
}

function SignIn({ problem }: { problem: string | null }) {
  const given = new URLSearchParams(window.location.search).get("org") ?? lastOrg();
  const [org, setOrg] = useState(given);
  const [error, setError] = useState<string | null>(null);

  function submit(event: Event) {
    event.preventDefault();
    const text = org.trim();
    if (!isOrgId(text)) {
      setError("An organization id looks like org_ followed by 26 letters and digits.");
      return;
    }
    void beginSignIn(root, text);
  }

  return (
    <main class="sign-in" id="main">
      <h1>Developer Dashboard</h1>
      <p>Sign in with your account in your organization.</p>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="org">Organization id</label>
          <input
            id="org"
            value={org}
            autoFocus
            autoComplete="organization"
            spellcheck={false}
            aria-invalid={Boolean(error)}
            aria-describedby={error ? "org-error" : "org-hint"}
            onInput={(e) => setOrg(e.currentTarget.value)}
          />
          <p class="hint" id="org-hint">
            Your administrator has it; it starts with org_.
          </p>
          {error && (
            <p class="field-error" id="org-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

const mount = document.getElementById("app");
if (mount) render(<App />, mount);
