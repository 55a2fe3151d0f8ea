// Small pieces every page uses: a labelled field with its error, and a problem notice.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

import type { Problem } from "./errors";

export function Field(props: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && <p class="hint" id={`${props.id}-hint`}>{props.hint}</p>}
      {props.error && (
        <p class="field-error" id={`${props.id}-error`} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

export function Notice({ problem }: { problem: Problem | null }) {
  if (!problem) return null;
  return (
    <p class="problem" role="alert">
      {problem.message}
    </p>
  );
}

export function describedBy(id: string, error: string | undefined, hint = false): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

/** A secret the API shows once (an API key's, a webhook's signing secret): a copy button, a
 * warning, and "I have copied it" to put it away. */
export function SecretOnce(props: { id: string; title: string; warning: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="secret" role="region" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      <p class="warning">{props.warning}</p>
      <p>
        <code id={props.id}>{props.secret}</code>
      </p>
      <button type="button" onClick={() => void navigator.clipboard.writeText(props.secret).then(() => setCopied(true))}>
        Copy secret
      </button>
      <button type="button" class="secondary" onClick={props.onDone}>
        I have copied it
      </button>
      <p role="status">{copied ? "Copied to the clipboard." : ""}</p>
    </div>
  );
}

/** A table row's action: its label, and (for screen readers) what it acts on. */
export function RowAction(props: { label: string; target: string; kind?: "danger" | "secondary"; onClick: () => void }) {
  return (
    <button type="button" class={props.kind ? `small ${props.kind}` : "small"} onClick={props.onClick}>
      {props.label} <span class="visually-hidden">{props.target}</span>
    </button>
  );
}
