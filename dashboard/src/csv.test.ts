import { describe, expect, it } from "vitest";

import { parseCsv, usersOf } from "./csv";

describe("csv", () => {
  it("reads quotes, doubled quotes, commas and both line ends", () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n1,\n')).toEqual([
      ["a", "b"],
      ["x, y", 'say "hi"'],
      ["1", ""],
    ]);
  });
  it("makes a user of each row, leaving empty cells out", () => {
    const text = '\uFEFFemail,name,department,metadata,send_welcome_email\na@x.io,A,,"{""k"":""v""}",false\n\nb@x.io,B,Ops,,\n';
    expect(usersOf(text)).toEqual([
      { email: "a@x.io", name: "A", metadata: { k: "v" }, send_welcome_email: false },
      { email: "b@x.io", name: "B", department: "Ops" },
    ]);
  });
  it("has no rows without a header", () => {
    expect(usersOf("")).toEqual([]);
  });
});

import { domainsOf } from "./sso";

describe("SSO domains", () => {
  it("are a list, whatever separates them", () => {
    expect(domainsOf(" Acme.example, beta.example\nC.example ,, ")).toEqual(["acme.example", "beta.example", "c.example"]);
  });
});
