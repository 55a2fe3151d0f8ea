import { describe, expect, it } from "vitest";

import { can, grantableScopes, pageOf, pagesFor } from "./permissions";

describe("what the dashboard offers", () => {
  it("shows the pages the user's permissions open", () => {
    expect(pagesFor(["users:read"])).toEqual(["users", "jobs", "security"]);
    expect(pagesFor(["users:read", "clients:read"])).toEqual(["users", "keys", "jobs", "security"]);
    expect(pagesFor(["audit:read", "roles:read", "users:read"])).toEqual(["users", "roles", "jobs", "audit", "security"]);
    expect(pagesFor([])).toEqual(["security"]);
  });
  it("routes by hash, to an allowed page only", () => {
    expect(pageOf("#/keys", ["users", "keys"])).toBe("keys");
    expect(pageOf("#/keys", ["users"])).toBe("users");
    expect(pageOf("", ["keys"])).toBe("keys");
    expect(pageOf("#/users", [])).toBeNull();
    expect(pageOf("#/users", ["security"])).toBe("security");
  });
  it("offers as scopes only what the user holds, never platform:admin", () => {
    expect(grantableScopes(["users:read", "platform:admin", "audit:read"])).toEqual(["audit:read", "users:read"]);
    expect(can(["users:update"], "users:update")).toBe(true);
    expect(can(["users:read"], "users:update")).toBe(false);
  });
});
