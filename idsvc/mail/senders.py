"""Mail senders. Sending happens after the transaction that decided to send has
committed, in a worker thread (smtplib is blocking); a failure is logged without the
address and reported to the caller, who can resend."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

import msgspec

from idsvc.settings import SmtpSettings

__all__ = ["ConsoleMailer", "Mail", "Mailer", "SmtpMailer"]

_log = logging.getLogger("idsvc.mail")


class Mail(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> bool: ...


class SmtpMailer:
    def __init__(self, settings: SmtpSettings, password: bytes | None) -> None:
        assert settings.host is not None
        self._settings = settings
        self._password = password.decode() if password else None

    def _send(self, mail: Mail) -> None:
        s = self._settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.from_address, mail.to, mail.subject
        message.set_content(mail.text)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host or "", s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host or "", s.port, timeout=s.timeout)
        with smtp:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.username and self._password:
                smtp.login(s.username, self._password)
            smtp.send_message(message)

    async def send(self, mail: Mail) -> bool:
        try:
            await asyncio.to_thread(self._send, mail)
        except Exception as exc:
            # in email.message; no mail may stop the job or request that sends it.
            # Never the address: logs carry no personal data.
            _log.warning("mail not sent", extra={"error": type(exc).__name__})
            return False
        return True


class ConsoleMailer:
    """`idsvc dev`: prints mails and keeps the last hundred for the /dev/outbox page."""

    def __init__(self) -> None:
        self.outbox: list[Mail] = []

    async def send(self, mail: Mail) -> bool:
        print(f"--- mail to {mail.to}: {mail.subject}\n{mail.text}\n---", flush=True)
        self.outbox = [*self.outbox[-99:], mail]
        return True
