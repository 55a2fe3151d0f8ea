"""The small HTML pages of the authorization endpoint: the sign-in form, the second step, the
recovery codes shown once, and the error page. No inline script: the passkey button's script is
a static file (``/oauth/assets/passkey.js``) that the CSP allows by origin."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from umapi.auth.second_step import SecondStepView

_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f5f6f8;display:flex;justify-content:center;padding-top:10vh}"
    "main{background:#fff;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 2px 12px #0002;width:20rem}"
    "h1{font-size:1.25rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-size:.9rem}"
    "input[type=email],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #bbb;"
    "border-radius:6px}button{margin-top:1.25rem;width:100%;padding:.6rem;border:0;border-radius:6px;"
    "background:#2456d6;color:#fff;font-size:1rem}.error{color:#b00020;font-size:.9rem}"
    "input[type=text]{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #bbb;border-radius:6px;"
    "font-size:1.1rem;letter-spacing:.1em}code{font-size:.95rem;word-break:break-all}.hint{color:#555;font-size:.85rem}"
    "button.secondary{background:#fff;color:#2456d6;border:1px solid #2456d6}details{margin-top:1.25rem}"
    "summary{cursor:pointer;color:#2456d6}ol.codes{columns:2;font-family:monospace;font-size:1rem;padding-left:1.5rem}"
    "a.button{display:block;text-align:center;margin-top:1.25rem;padding:.6rem;border-radius:6px;background:#2456d6;"
    "color:#fff;text-decoration:none}figure{margin:1rem 0;text-align:center}"
)
_POLICY = "default-src 'none'; script-src 'self'; connect-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": f"{_POLICY}; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def content_security_policy(form_targets: Sequence[str] | None) -> str:
    """The pages' CSP. A form posted here may end in a redirect elsewhere, which browsers check
    against ``form-action`` too: ``form_targets`` are the places it may lead (the client's
    redirect URI); ``None`` leaves ``form-action`` out, for the email step, which may lead to any
    organization's identity provider."""
    if form_targets is None:
        return _POLICY
    sources = ["'self'", *(source for target in form_targets if (source := _source(target)))]
    return f"{_POLICY}; form-action {' '.join(dict.fromkeys(sources))}"


def _source(uri: str) -> str | None:
    """The CSP source expression of ``uri``'s origin (a scheme alone for an app's own scheme)."""
    scheme, _, rest = uri.partition(":")
    if not scheme.isascii() or not scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        return None
    if scheme.lower() not in ("http", "https"):
        return f"{scheme.lower()}:"
    host = rest.removeprefix("//").split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
    return f"{scheme.lower()}://{host}" if host and set(host) <= allowed else None


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def login_page(
    client_name: str, params: dict[str, str], error: str | None = None, email: str = "", *, password: bool = False
) -> str:
    """Email first (docs/api.md §12): the email alone, which may lead to the organization's own
    identity provider; then, for everyone else, the password (``password``)."""
    hidden = "".join(
        f"<input type=hidden name='{escape(name)}' value='{escape(value)}'>" for name, value in sorted(params.items())
    )
    notice = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    # The field to type in first: the password when the email is known already.
    email_focus = "" if password else " autofocus"
    fields = (
        f"<label for=email>Email</label><input id=email name=email type=email required autocomplete=username "
        f"value='{escape(email)}'{email_focus}>"
    )
    if password:
        fields += (
            "<label for=password>Password</label><input id=password name=password type=password required "
            "autocomplete=current-password autofocus><button type=submit>Sign in</button>"
        )
    else:
        fields += "<button type=submit>Continue</button>"
    return _page(
        "Sign in",
        f"<h1>Sign in to {escape(client_name)}</h1>{notice}<form method=post action=authorize>{hidden}{fields}</form>",
    )


PASSKEY_SCRIPT = "assets/passkey.js"  # relative to /oauth/authorize


def second_factor_page(view: SecondStepView) -> str:
    """The second step (docs/api.md §11): a code, a recovery code or a passkey; with no factor yet,
    the enrolment of an authenticator app (its key as a QR code and as text). Works without
    JavaScript except for the passkey button."""
    notice = f"<p class=error role=alert>{escape(view.error)}</p>" if view.error else ""
    step = "<input type=hidden name=step value=second-factor>"
    parts = [f"<h1>Two-step verification</h1><p class=hint>Signing in as {escape(view.email)}</p>{notice}"]
    if view.enrol_secret:
        grouped = " ".join(view.enrol_secret[i : i + 4] for i in range(0, len(view.enrol_secret), 4))
        parts.append(
            "<p>Your organization asks for a second factor. Scan this code with an authenticator app "
            "(or type the key), then enter the 6-digit code it shows.</p>"
            f"<figure>{view.enrol_qr_svg or ''}</figure>"
            f"<p>Key: <code id=totp-secret>{escape(grouped)}</code></p>"
        )
    if view.passkey_options:
        parts.append(
            # Disabled until its script has loaded and listens (a click before then would be lost).
            f"<button type=button id=passkey disabled data-options='{escape(view.passkey_options)}'>"
            "Use your passkey</button>"
            "<p id=passkey-status class=hint role=status></p>"
            f"<noscript><p class=hint>Passkeys need JavaScript; use a code instead.</p></noscript>"
            f"<form id=passkey-form method=post action=authorize>{step}"
            "<input type=hidden name=credential id=credential></form>"
            f"<script src={PASSKEY_SCRIPT} defer></script>"
        )
    if view.codes:
        label = "Code from your authenticator app" if view.enrol_secret or not view.passkey_options else "Or a code"
        parts.append(
            f"<form method=post action=authorize>{step}<label for=otp>{label}</label>"
            "<input id=otp name=otp type=text required autocomplete=one-time-code inputmode=numeric "
            "pattern='[0-9]{6}' maxlength=6 autofocus aria-describedby=otp-hint>"
            "<p id=otp-hint class=hint>6 digits, a new one every 30 seconds.</p>"
            "<button type=submit>Verify</button></form>"
        )
    if not view.enrol_secret:
        parts.append(
            "<details><summary>Use a recovery code</summary>"
            f"<form method=post action=authorize>{step}<label for=recovery>Recovery code</label>"
            "<input id=recovery name=otp type=text required autocomplete=off spellcheck=false "
            "aria-describedby=recovery-hint>"
            "<p id=recovery-hint class=hint>One of the codes you saved when you set up two-step verification.</p>"
            "<button type=submit class=secondary>Use recovery code</button></form></details>"
        )
    return _page("Two-step verification", "".join(parts))


def recovery_codes_page(codes: list[str], location: str) -> str:
    """The recovery codes of a factor enrolled while signing in: shown this once."""
    items = "".join(f"<li>{escape(code)}</li>" for code in codes)
    return _page(
        "Save your recovery codes",
        "<h1>Save your recovery codes</h1><p>Two-step verification is on. If you lose your authenticator, "
        "each of these codes signs you in once. Keep them somewhere safe: they are not shown again.</p>"
        f"<ol class=codes id=recovery-codes>{items}</ol>"
        f"<a class=button href='{escape(location)}'>I saved them: continue</a>",
    )


def logout_page(params: dict[str, str]) -> str:
    """Asks before signing out: a link without the client's ID token could come from anywhere."""
    hidden = "".join(
        f"<input type=hidden name='{escape(name)}' value='{escape(value)}'>" for name, value in sorted(params.items())
    )
    return _page(
        "Sign out",
        f"<h1>Sign out?</h1><p>You will need to sign in again to the applications of this organization.</p>"
        f"<form method=post action=logout>{hidden}<button type=submit>Sign out</button></form>",
    )


def signed_out_page() -> str:
    return _page("Signed out", "<h1>You are signed out</h1><p>You can close this window.</p>")


def error_page(message: str) -> str:
    return _page("Sign-in problem", f"<h1>This sign-in link is not valid</h1><p class=error>{escape(message)}</p>")
