import { describe, expect, it } from "vitest";

import { auditQuery, changeText } from "./audit";

describe("the audit log's filters", () => {
  it("send only what is filled, times in UTC", () => {
    const query = auditQuery({ actor_id: " usr_1 ", target_id: "", action: "", since: "2026-01-02T03:04", until: "" });
    expect(query.actor_id).toBe("usr_1");
    expect(Object.keys(query).sort()).toEqual(["actor_id", "since"]);
    expect(query.since).toMatch(/^2026-01-0[12]T\d\d:04:00Z$/);
  });
  it("show each change on one line", () => {
    expect(changeText({ name: { from: "A", to: "B" }, client_id: "cli_1" })).toBe('name: "A" → "B"; client_id: "cli_1"');
  });
});

import { attemptText } from "./webhooks";

describe("a delivery attempt in words", () => {
  it("says its number, status, time and error", () => {
    const attempt = { attempt: 2, webhook_id: "whk_1", timestamp: "t", status_code: 500, response_time_ms: 12, error: "HTTP 500" };
    expect(attemptText(attempt)).toBe("#2 500 in 12 ms: HTTP 500");
    expect(attemptText({ ...attempt, status_code: null, error: null })).toBe("#2 no answer in 12 ms");
  });
});
