"""Outgoing email through Amazon SES (moto's SES locally, where ``GET /_local/emails`` lists it)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from umapi.observability import logger
from umapi.time import utc_now

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


class EmailSender:
    def __init__(self, ses: SESClient, sender: str) -> None:
        self._ses = ses
        self._sender = sender

    def send(self, to: str, subject: str, text: str) -> bool:
        """Send a plain-text email; a failure is logged, not raised (the change it follows has happened)."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(utc_now())
        message.set_content(text)
        try:
            self._ses.send_raw_email(Source=self._sender, Destinations=[to], RawMessage={"Data": message.as_bytes()})
        except (BotoCoreError, ClientError) as exc:
            logger.error("email not sent", extra={"error_type": type(exc).__name__, "subject": subject})
            return False
        return True


def verification_email(name: str, link: str) -> tuple[str, str]:
    subject = "Confirm your email address"
    text = (
        f"Hello {name},\n\n"
        "Please confirm your email address. The link is valid for 24 hours and works once:\n\n"
        f"{link}\n"
    )
    return subject, text
