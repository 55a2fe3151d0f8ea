// Signing in with the product's own authorization code flow and PKCE S256 (RFC 7636), as the
// organization's public dashboard client. Pure helpers here; session.ts holds the state.

export interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number; // epoch milliseconds
}

export interface PendingSignIn {
  verifier: string;
  state: string;
  orgId: string;
}

const ORG_ID = /^org_[0-9A-HJKMNP-TV-Z]{26}$/;

/** The API root the dashboard was served from: everything before "/dashboard". */
export function apiRoot(href: string): string {
  const url = new URL(href);
  const at = url.pathname.lastIndexOf("/dashboard");
  return url.origin + (at >= 0 ? url.pathname.slice(0, at) : "");
}

export function dashboardUrl(root: string): string {
  return `${root}/dashboard`;
}

export function isOrgId(text: string): boolean {
  return ORG_ID.test(text);
}

/** Every organization's dashboard client has the organization's ULID as its id. */
export function clientIdOf(orgId: string): string {
  return `cli_${orgId.replace(/^org_/, "")}`;
}

export function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function randomToken(size = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export function authorizeUrl(root: string, orgId: string, challenge: string, state: string): string {
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientIdOf(orgId),
    redirect_uri: dashboardUrl(root),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return `${root}/oauth/authorize?${query}`;
}

export function logoutUrl(root: string, orgId: string): string {
  const query = new URLSearchParams({ client_id: clientIdOf(orgId), post_logout_redirect_uri: dashboardUrl(root) });
  return `${root}/oauth/logout?${query}`;
}

/** The token endpoint's answer as the dashboard keeps it (``now``: epoch milliseconds). */
export function tokensOf(answer: { access_token: string; refresh_token?: string; expires_in: number }, now: number): Tokens {
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token ?? null,
    expiresAt: now + answer.expires_in * 1000,
  };
}

/** Renew a minute before the access token expires. */
export function needsRefresh(tokens: Tokens, now: number): boolean {
  return tokens.expiresAt - now < 60_000;
}
