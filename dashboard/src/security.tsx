// My security: the signed-in user's password, second factors (an authenticator app, passkeys)
// and recovery codes, through /users/me/… with the user's own token.
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { type Problem, problemOf } from "./errors";
import { Field, Notice, describedBy } from "./ui";

type Factor = Schemas["MfaFactorResponse"];

export function SecurityPage({ api, me }: { api: Api; me: Schemas["UserView"] }) {
  const [factors, setFactors] = useState<Factor[]>([]);
  const [enabled, setEnabled] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [note, setNote] = useState("");

  async function load() {
    const { data, error, response } = await api.GET("/users/me/mfa");
    if (!data) return setProblem(problemOf(error, response.status));
    setFactors(data.data);
    setEnabled(data.mfa_enabled);
  }

  useEffect(() => void load(), []);

  function failed(error: unknown, status: number) {
    setProblem(problemOf(error, status));
  }

  return (
    <section aria-labelledby="security-title">
      <h1 id="security-title">My security</h1>
      <Notice problem={problem} />
      <p role="status" class="done">
        {note}
      </p>
      {codes && (
        <div class="secret" role="region" aria-labelledby="codes-title">
          <h2 id="codes-title">Your recovery codes</h2>
          <p class="warning">Save them now: they are not shown again. Each signs you in once.</p>
          <ol class="codes" id="recovery-codes">
            {codes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ol>
          <button type="button" class="secondary" onClick={() => setCodes(null)}>
            I saved them
          </button>
        </div>
      )}
      <div class="panel">
        <h2>Second factors</h2>
        <p>Two-step verification is {enabled ? "on" : "off"}.</p>
        <ul class="factors">
          {factors.map((factor) => (
            <RemovableFactor
              key={factor.id}
              api={api}
              factor={factor}
              onRemoved={() => {
                setNote(`${factor.name} was removed.`);
                void load();
              }}
              onProblem={failed}
            />
          ))}
        </ul>
        <AddTotp
          api={api}
          onAdded={(recovery) => {
            setCodes(recovery);
            setNote("The authenticator app was added.");
            void load();
          }}
          onProblem={failed}
        />
        <AddPasskey
          api={api}
          onAdded={(recovery) => {
            if (recovery) setCodes(recovery);
            setNote("The passkey was added.");
            void load();
          }}
          onProblem={failed}
        />
      </div>
      <ChangePassword api={api} userId={me.id} onDone={() => setNote("Your password was changed. Sign in again with it.")} />
    </section>
  );
}

function RemovableFactor(props: {
  api: Api;
  factor: Factor;
  onRemoved: () => void;
  onProblem: (error: unknown, status: number) => void;
}) {
  const [code, setCode] = useState("");
  const id = `remove-${props.factor.id}`;
  async function remove(event: Event) {
    event.preventDefault();
    const { error, response } = await props.api.DELETE("/users/me/mfa/{factor_id}", {
      params: { path: { factor_id: props.factor.id } },
      body: { code },
    });
    if (error) return props.onProblem(error, response.status);
    props.onRemoved();
  }
  return (
    <li>
      <strong>{props.factor.name}</strong>
      {props.factor.type === "webauthn" ? " (passkey)" : props.factor.name === "Authenticator app" ? "" : " (authenticator app)"},
      added{" "}
      {props.factor.created_at.slice(0, 10)}
      {props.factor.last_used_at ? `, last used ${props.factor.last_used_at.slice(0, 10)}` : ""}
      <form class="inline" onSubmit={(e) => void remove(e)}>
        <label for={id}>Code to remove it</label>
        <input id={id} value={code} autoComplete="one-time-code" onInput={(e) => setCode(e.currentTarget.value)} />
        <button type="submit" class="small danger">
          Remove <span class="visually-hidden">{props.factor.name}</span>
        </button>
      </form>
    </li>
  );
}

function AddTotp(props: { api: Api; onAdded: (codes: string[]) => void; onProblem: (e: unknown, s: number) => void }) {
  const [enrolment, setEnrolment] = useState<Schemas["TotpEnrolment"] | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | undefined>();

  async function begin() {
    const { data, error, response } = await props.api.POST("/users/me/mfa/totp", { body: { name: "Authenticator app" } });
    if (!data) return props.onProblem(error, response.status);
    setEnrolment(data);
  }

  async function confirm(event: Event) {
    event.preventDefault();
    if (!enrolment) return;
    const { data, error, response } = await props.api.POST("/users/me/mfa/totp/{factor_id}/confirm", {
      params: { path: { factor_id: enrolment.factor_id } },
      body: { code },
    });
    if (!data) {
      setError(problemOf(error, response.status).fields.code ?? problemOf(error, response.status).message);
      return;
    }
    setEnrolment(null);
    setCode("");
    setError(undefined);
    props.onAdded(data.recovery_codes);
  }

  if (!enrolment)
    return (
      <button type="button" onClick={() => void begin()}>
        Add an authenticator app
      </button>
    );
  const grouped = enrolment.secret.match(/.{1,4}/g)?.join(" ") ?? enrolment.secret;
  return (
    <form onSubmit={(e) => void confirm(e)} class="enrol">
      <p>
        Add this key to your authenticator app (or open the{" "}
        <a href={enrolment.otpauth_uri}>otpauth link</a> on this device), then type the code it shows.
      </p>
      <p>
        Key: <code id="totp-key">{grouped}</code>
      </p>
      <Field id="totp-code" label="Code from the app" error={error}>
        <input
          id="totp-code"
          value={code}
          inputMode="numeric"
          autoComplete="one-time-code"
          aria-invalid={Boolean(error)}
          aria-describedby={describedBy("totp-code", error)}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
      </Field>
      <button type="submit">Confirm</button>
    </form>
  );
}

function AddPasskey(props: {
  api: Api;
  onAdded: (codes: string[] | null) => void;
  onProblem: (e: unknown, s: number) => void;
}) {
  const [name, setName] = useState("Passkey");
  const supported = typeof PublicKeyCredential !== "undefined" && "parseCreationOptionsFromJSON" in PublicKeyCredential;

  async function add(event: Event) {
    event.preventDefault();
    const options = await props.api.POST("/users/me/mfa/webauthn/options");
    if (!options.data) return props.onProblem(options.error, options.response.status);
    let credential: Credential | null;
    try {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.data as never),
      });
    } catch (error) {
      return props.onProblem({ error: { message: `The passkey was not made (${(error as Error).name}).` } }, 400);
    }
    const json = (credential as PublicKeyCredential).toJSON() as Record<string, unknown>;
    const { data, error, response } = await props.api.POST("/users/me/mfa/webauthn", {
      body: { name, credential: json },
    });
    if (!data) return props.onProblem(error, response.status);
    props.onAdded((data as { recovery_codes?: string[] }).recovery_codes ?? null);
  }

  if (!supported) return <p class="hint">This browser cannot make passkeys.</p>;
  return (
    <form onSubmit={(e) => void add(e)} class="inline">
      <label for="passkey-name">Passkey name</label>
      <input id="passkey-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <button type="submit">Add a passkey</button>
    </form>
  );
}

function ChangePassword(props: { api: Api; userId: string; onDone: () => void }) {
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const { data, error, response } = await props.api.PATCH("/users/{user_id}", {
      params: { path: { user_id: props.userId } },
      body: { password },
    });
    if (!data) return setProblem(problemOf(error, response.status));
    setProblem(null);
    setPassword("");
    props.onDone();
  }

  const errors = problem?.fields ?? {};
  return (
    <form class="panel" onSubmit={(e) => void submit(e)}>
      <h2>Password</h2>
      <p class="hint">Changing it ends all your sessions, this one too: you sign in again with the new password.</p>
      <Notice problem={problem} />
      <Field id="new-own-password" label="New password" error={errors.password}>
        <input
          id="new-own-password"
          type="password"
          autoComplete="new-password"
          value={password}
          aria-invalid={Boolean(errors.password)}
          aria-describedby={describedBy("new-own-password", errors.password)}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </Field>
      <button type="submit">Change password</button>
    </form>
  );
}
