"""The test letter: a small, well-formed message that says where it came from.

Addresses go out with their domains in punycode, so every server can route
them. A non-ASCII local part ("почта@пример.рф") cannot be written in ASCII
at all: it is kept as it is, and the letter then needs a server with SMTPUTF8
(``needs_smtputf8``); delivery checks that the server offers it and reports a
clear failure if not, instead of sending a mangled address.
"""

from __future__ import annotations

import email.policy
import html
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import idna

from i18n import Lang
from mail.security import Security

__all__ = [
    "LetterError",
    "build_test_letter",
    "needs_smtputf8",
    "smtp_address",
    "split_address",
]

_MAILER = "mailtab"

_SECURITY_NAMES: dict[Security, dict[Lang, str]] = {
    Security.SSL_TLS: {"ru": "SSL/TLS с самого начала", "en": "SSL/TLS from the start"},
    Security.STARTTLS: {"ru": "STARTTLS", "en": "STARTTLS"},
    Security.NONE: {"ru": "без шифрования", "en": "no encryption"},
}

_SUBJECT: dict[Lang, str] = {
    "ru": "Тестовое письмо: проверка настроек почты",
    "en": "Test letter: checking the mail settings",
}

_INTRO: dict[Lang, str] = {
    "ru": (
        "Это тестовое письмо. Его отправила учётная система при проверке настроек "
        "на вкладке «Почта», чтобы убедиться, что письма и уведомления клиентам "
        "уходят через указанный почтовый сервис."
    ),
    "en": (
        "This is a test letter. The ERP sent it while checking the settings on the "
        "Mail tab, to make sure that letters and customer notifications go out "
        "through the configured mail service."
    ),
}

_OUTRO: dict[Lang, str] = {
    "ru": "Раз письмо дошло, настройки работают. Отвечать на него не нужно.",
    "en": "If you can read this, the settings work. There is no need to reply.",
}

_LABELS: dict[Lang, tuple[str, str, str, str]] = {
    "ru": ("Учётная запись", "Сервер", "Защита соединения", "Отправлено"),
    "en": ("Account", "Server", "Connection security", "Sent"),
}

_GREETING: dict[Lang, str] = {"ru": "Здравствуйте!", "en": "Hello,"}


class LetterError(ValueError):
    """An address or name that cannot be put into a letter (checked upstream first)."""


def split_address(address: str) -> tuple[str, str]:
    """The local part and the domain (unchanged) of ``user@domain``."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise LetterError("not an email address")
    _refuse_controls(address)
    return local, domain


def smtp_address(address: str) -> str:
    """The address as it goes on the wire: domain in punycode, local part kept."""
    local, domain = split_address(address)
    return f"{local}@{_ascii_domain(domain)}"


def needs_smtputf8(*addresses: str) -> bool:
    """Whether any of the addresses still has non-ASCII characters after punycode."""
    return not all(smtp_address(address).isascii() for address in addresses)


def build_test_letter(
    *,
    sender_name: str | None,
    sender_email: str,
    recipient: str,
    address: str,
    smtp_host: str,
    port: int,
    security: Security,
    lang: Lang,
    now: datetime | None = None,
) -> EmailMessage:
    """A multipart (text + HTML) test letter in the user's language.

    ``address`` is the account the letter is sent through (login and envelope
    sender), ``sender_email`` the one shown in From.
    """
    moment = _utc(now)
    if sender_name is not None:
        _refuse_controls(sender_name)
    _refuse_controls(smtp_host)
    from_local, from_domain = split_address(sender_email)
    to_local, to_domain = split_address(recipient)
    from_domain = _ascii_domain(from_domain)

    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = _SUBJECT[lang]
    message["From"] = Address(
        display_name=(sender_name or "").strip(), username=from_local, domain=from_domain
    )
    message["To"] = Address(username=to_local, domain=_ascii_domain(to_domain))
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = make_msgid(domain=from_domain)
    # RFC 3834: marks the letter as machine-made, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    # Exchange/Outlook ignore Auto-Submitted but honour this one.
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Mailer"] = _MAILER

    facts = _facts(
        address=smtp_address(address),
        server=f"{_host_for_display(smtp_host)}:{port}",
        security=_SECURITY_NAMES[security][lang],
        sent=moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
        lang=lang,
    )
    # base64 keeps the Cyrillic body 7-bit clean: no dependence on the server's 8BITMIME.
    message.set_content(_text_body(facts, lang), subtype="plain", cte="base64")
    message.add_alternative(_html_body(facts, lang), subtype="html", cte="base64")
    for part in message.iter_parts():
        # EmailMessage gives the added part a MIME-Version of its own; it belongs on top only.
        del part["MIME-Version"]
    return message


def _facts(
    *, address: str, server: str, security: str, sent: str, lang: Lang
) -> list[tuple[str, str]]:
    labels = _LABELS[lang]
    return list(zip(labels, (address, server, security, sent), strict=True))


def _text_body(facts: list[tuple[str, str]], lang: Lang) -> str:
    lines = [_GREETING[lang], "", _INTRO[lang], ""]
    lines += [f"{label}: {value}" for label, value in facts]
    lines += ["", _OUTRO[lang], "", "-- ", _MAILER, ""]
    return "\n".join(lines)


def _html_body(facts: list[tuple[str, str]], lang: Lang) -> str:
    rows = "\n".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{html.escape(label)}</th>'
        f"<td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(_SUBJECT[lang])}</title></head>\n"
        '<body style="font-family:sans-serif">\n'
        f"<p>{html.escape(_GREETING[lang])}</p>\n"
        f"<p>{html.escape(_INTRO[lang])}</p>\n"
        f"<table>\n{rows}\n</table>\n"
        f"<p>{html.escape(_OUTRO[lang])}</p>\n"
        "</body>\n</html>\n"
    )


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain.lower()
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise LetterError("not a valid domain") from None


def _host_for_display(host: str) -> str:
    host = host.strip()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC).replace(microsecond=0)
    # A naive time is taken to be UTC already (that is what the service stores).
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _refuse_controls(text: str) -> None:
    # CR/LF would start a new header; other controls have no business in a header either.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise LetterError("control characters are not allowed")
