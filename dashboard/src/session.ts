// The signed-in session: tokens in memory only (a reload signs in again, at once while the
// sign-in page's own session lasts). Only the PKCE verifier and state wait in sessionStorage
// across the redirect to the sign-in page; they are not credentials.
import {
  type PendingSignIn,
  type Tokens,
  authorizeUrl,
  challengeOf,
  clientIdOf,
  dashboardUrl,
  logoutUrl,
  needsRefresh,
  randomToken,
  tokensOf,
} from "./auth";

const PENDING = "umapi.dashboard.pending";
const LAST_ORG = "umapi.dashboard.org";

let tokens: Tokens | null = null;
let orgId = "";

export function signedInOrg(): string {
  return orgId;
}

export function lastOrg(): string {
  return localStorage.getItem(LAST_ORG) ?? "";
}

export async function beginSignIn(root: string, org: string): Promise<void> {
  const pending: PendingSignIn = { verifier: randomToken(48), state: randomToken(16), orgId: org };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  localStorage.setItem(LAST_ORG, org); // an organization id, not a secret: the field is filled next time
  window.location.assign(authorizeUrl(root, org, await challengeOf(pending.verifier), pending.state));
}

/** Back from the sign-in page with ?code=…&state=…: the tokens, or an error to show. */
export async function completeSignIn(root: string): Promise<string | null> {
  const query = new URLSearchParams(window.location.search);
  const saved = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, "", dashboardUrl(root) + window.location.hash);
  if (query.get("error")) return query.get("error_description") ?? query.get("error");
  const pending = saved ? (JSON.parse(saved) as PendingSignIn) : null;
  if (!pending || query.get("state") !== pending.state) return "This sign-in was not started here. Please sign in again.";
  const answer = await fetch(`${root}/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: query.get("code") ?? "",
      redirect_uri: dashboardUrl(root),
      client_id: clientIdOf(pending.orgId),
      code_verifier: pending.verifier,
    }),
  });
  const body = await answer.json();
  if (!answer.ok) return body.error_description ?? "The sign-in could not be completed.";
  tokens = tokensOf(body, Date.now());
  orgId = pending.orgId;
  return null;
}

export function isSignedIn(): boolean {
  return tokens !== null;
}

/** A current access token, renewed with the refresh token when it is about to expire. */
export async function accessToken(root: string): Promise<string | null> {
  if (tokens && needsRefresh(tokens, Date.now()) && tokens.refreshToken) {
    const answer = await fetch(`${root}/auth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refreshToken,
        client_id: clientIdOf(orgId),
      }),
    });
    tokens = answer.ok ? tokensOf(await answer.json(), Date.now()) : null;
  }
  return tokens?.accessToken ?? null;
}

/** Revoke the refresh token's family, then end the sign-in page's session. */
export async function signOut(root: string): Promise<void> {
  if (tokens?.refreshToken) {
    await fetch(`${root}/auth/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.refreshToken, client_id: clientIdOf(orgId) }),
    });
  }
  const org = orgId;
  tokens = null;
  window.location.assign(logoutUrl(root, org));
}
