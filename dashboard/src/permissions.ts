// What the signed-in user may do decides what the dashboard offers (the API still decides).

export type Page = "users" | "roles" | "keys" | "webhooks" | "jobs" | "sso" | "audit" | "security";

export const PAGES: { page: Page; title: string; needs: string }[] = [
  { page: "users", title: "Users", needs: "users:read" },
  { page: "roles", title: "Roles", needs: "roles:read" },
  { page: "keys", title: "API keys", needs: "clients:read" },
  { page: "webhooks", title: "Webhooks", needs: "webhooks:read" },
  { page: "jobs", title: "Jobs", needs: "users:read" },
  { page: "sso", title: "SSO", needs: "sso:read" },
  { page: "audit", title: "Audit log", needs: "audit:read" },
  { page: "security", title: "My security", needs: "" },
];

export function pagesFor(permissions: readonly string[]): Page[] {
  // Everyone has their own security page.
  return PAGES.filter((entry) => entry.needs === "" || permissions.includes(entry.needs)).map((entry) => entry.page);
}

export function can(permissions: readonly string[], permission: string): boolean {
  return permissions.includes(permission);
}

/** The scopes a new API key may hold: what its creator holds (no escalation, docs/api.md §2). */
export function grantableScopes(permissions: readonly string[]): string[] {
  return permissions.filter((scope) => scope !== "platform:admin").slice().sort();
}

export function pageOf(hash: string, allowed: readonly Page[]): Page | null {
  const wanted = hash.replace(/^#\/?/, "") as Page;
  if (allowed.includes(wanted)) return wanted;
  return allowed[0] ?? null;
}
