import { describe, expect, it } from "vitest";

import {
  apiRoot,
  authorizeUrl,
  base64url,
  challengeOf,
  clientIdOf,
  dashboardUrl,
  isOrgId,
  logoutUrl,
  needsRefresh,
  tokensOf,
} from "./auth";

describe("where the API is", () => {
  it("is everything before /dashboard, a stage included", () => {
    expect(apiRoot("http://127.0.0.1:3000/dashboard?org=x#/users")).toBe("http://127.0.0.1:3000");
    expect(apiRoot("https://abc.execute-api.eu-west-1.amazonaws.com/v1/dashboard")).toBe(
      "https://abc.execute-api.eu-west-1.amazonaws.com/v1",
    );
    expect(dashboardUrl("https://api.example/v1")).toBe("https://api.example/v1/dashboard");
  });
});

describe("the organization's dashboard client", () => {
  it("has the organization's ULID", () => {
    expect(clientIdOf("org_01JF8RXS1A2B3C4D5E6F7G8H9J")).toBe("cli_01JF8RXS1A2B3C4D5E6F7G8H9J");
  });
  it("accepts only organization ids", () => {
    expect(isOrgId("org_01JF8RXS1A2B3C4D5E6F7G8H9J")).toBe(true);
    for (const wrong of ["", "org_", "org_01JF8RXS1A2B3C4D5E6F7G8H9", "usr_01JF8RXS1A2B3C4D5E6F7G8H9J", "org_01JF8RXS1A2B3C4D5E6F7G8H9U"])
      expect(isOrgId(wrong)).toBe(false);
  });
});

describe("PKCE", () => {
  it("computes RFC 7636's example challenge", async () => {
    expect(await challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });
  it("encodes base64url without padding", () => {
    expect(base64url(new Uint8Array([251, 255, 191]))).toBe("-_-_");
    expect(base64url(new Uint8Array([1]))).toBe("AQ");
  });
  it("asks for a code with S256, back at the dashboard", () => {
    const url = new URL(authorizeUrl("http://h:3000", "org_01JF8RXS1A2B3C4D5E6F7G8H9J", "CH", "ST"));
    expect(url.pathname).toBe("/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "cli_01JF8RXS1A2B3C4D5E6F7G8H9J",
      redirect_uri: "http://h:3000/dashboard",
      state: "ST",
      code_challenge: "CH",
      code_challenge_method: "S256",
    });
    const out = new URL(logoutUrl("http://h:3000", "org_01JF8RXS1A2B3C4D5E6F7G8H9J"));
    expect(out.searchParams.get("post_logout_redirect_uri")).toBe("http://h:3000/dashboard");
  });
});

describe("tokens", () => {
  it("are renewed a minute before they expire", () => {
    const tokens = tokensOf({ access_token: "a", refresh_token: "r", expires_in: 3600 }, 1_000_000);
    expect(tokens).toEqual({ accessToken: "a", refreshToken: "r", expiresAt: 1_000_000 + 3_600_000 });
    expect(needsRefresh(tokens, 1_000_000 + 3_540_000 - 1)).toBe(false);
    expect(needsRefresh(tokens, 1_000_000 + 3_540_001)).toBe(true);
    expect(tokensOf({ access_token: "a", expires_in: 1 }, 0).refreshToken).toBeNull();
  });
});
