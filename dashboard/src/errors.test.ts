import { describe, expect, it } from "vitest";

import { problemOf } from "./errors";

describe("the error envelope in words", () => {
  it("puts each detail next to its field", () => {
    const body = {
      error: {
        code: "validation_error",
        message: "The request is not valid.",
        details: [
          { field: "body.email", message: "must be a valid email address", code: "x" },
          { field: "name", message: "too short", code: "y" },
          { field: "name", message: "blank", code: "z" },
        ],
      },
    };
    expect(problemOf(body, 400)).toEqual({
      message: "The request is not valid.",
      fields: { email: "must be a valid email address", name: "too short blank" },
    });
  });
  it("says when to try again after a rate limit", () => {
    const body = { error: { message: "Too many requests.", details: [], retry_after: 12 } };
    expect(problemOf(body, 429).message).toBe("Too many requests. Try again in 12 s.");
  });
  it("never loses an answer it cannot read", () => {
    expect(problemOf(null, 502)).toEqual({ message: "The API answered 502.", fields: {} });
    expect(problemOf({ error: { details: [{ field: 3 }] } }, 400).fields).toEqual({});
  });
});
