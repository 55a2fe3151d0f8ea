"""``GET /_local/emails``: the emails the API sent, read from moto's SES (local only, never deployed)."""

from __future__ import annotations

from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any, cast

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends


def _as_dict(raw: str) -> dict[str, Any]:
    parsed = message_from_string(raw, policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    sent = parsed["Date"].datetime if parsed["Date"] else None
    return {
        "to": str(parsed["To"]),
        "subject": str(parsed["Subject"]),
        "text": cast(EmailMessage, body).get_content() if body is not None else "",
        "sent_at": sent.isoformat(timespec="seconds").replace("+00:00", "Z") if sent else None,
    }


def sent_emails(region: str) -> list[dict[str, Any]]:
    """Newest first: ``{to, subject, text, sent_at}``. The API sends raw MIME with a ``Date`` header."""
    messages = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
    return [_as_dict(message.raw_data) for message in reversed(messages) if hasattr(message, "raw_data")]
