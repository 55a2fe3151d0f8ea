"""The small HTML pages of the authorization endpoint: the sign-in form and the error page."""

from __future__ import annotations

from html import escape

_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f5f6f8;display:flex;justify-content:center;padding-top:10vh}"
    "main{background:#fff;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 2px 12px #0002;width:20rem}"
    "h1{font-size:1.25rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-size:.9rem}"
    "input[type=email],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #bbb;"
    "border-radius:6px}button{margin-top:1.25rem;width:100%;padding:.6rem;border:0;border-radius:6px;"
    "background:#2456d6;color:#fff;font-size:1rem}.error{color:#b00020;font-size:.9rem}"
)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


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
