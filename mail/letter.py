"""The test letter: a small, well-formed message that says where it came from.

Addresses go out with their domains in punycode, so every server can route
them. A non-ASCII local part ("почта@пример.рф") cannot be written in ASCII
at all: it is kept as it is, and the letter then needs a server with SMTPUTF8
(``needs_smtputf8``); delivery checks that the server offers it and reports a
clear failure if not, instead of sending a mangled address.

No header may say other than what was set. The standard library decodes RFC 2047
encoded-words ("=?utf-8?q?a=0D=0ABcc:...?=") in display names and addresses when
it builds a header and, before CPython 3.11.10 / 3.12.5 (CVE-2024-6923), writes a
decoded line break out raw: a sender name became a Bcc header, or a whole forged
letter. So encoded-words and control characters are refused in every value that
reaches a header (``HeaderInjection``), and the finished letter is serialized the
way delivery sends it and checked before it is handed out: every physical header
line continues a header or starts one that was set, exactly the headers set come
back when it is parsed, with the names and addresses set. This holds on every
interpreter, the vulnerable ones included.
"""

from __future__ import annotations

import email.errors
import email.parser
import email.policy
import html
import secrets
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from i18n import Lang
from mail.errors import HeaderInjection, LetterError
from mail.idn import ascii_domain
from mail.security import Security
from textrules import has_encoded_word, has_forbidden_characters

__all__ = [
    "build_test_letter",
    "needs_smtputf8",
    "smtp_address",
    "split_address",
]

_MAILER = "mailtab"


#: The policies delivery serializes a letter with (SMTPUTF8 only for non-ASCII addresses).
_WIRE_POLICIES = (email.policy.SMTP, email.policy.SMTPUTF8)

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


def split_address(address: str, *, field: str | None = None) -> tuple[str, str]:
    """The local part and the domain (unchanged) of ``user@domain``."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise LetterError("not an email address", field=field)
    _refuse_controls(address, field=field)
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
    display_name = _header_text(sender_name or "", field="senderName").strip()
    _refuse_controls(smtp_host, field="smtpHost")
    from_local, from_domain = _header_address(sender_email, field="senderEmail")
    to_local, to_domain = _header_address(recipient, field="recipient")
    from_domain = _ascii_domain(from_domain, field="senderEmail")
    author = Address(display_name=display_name, username=from_local, domain=from_domain)
    reader = Address(username=to_local, domain=_ascii_domain(to_domain, field="recipient"))

    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = _SUBJECT[lang]
    message["From"] = author
    message["To"] = reader
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
    # Set now, not by the first serialization: the headers checked below are then the
    # headers sent. "_" is not in base64's alphabet, so no body line can be the boundary.
    message.set_boundary(f"=_mailtab_{secrets.token_hex(12)}")
    for policy in _WIRE_POLICIES:
        _check_wire(message, policy=policy, author=author, reader=reader)
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


def _ascii_domain(domain: str, *, field: str | None = None) -> str:
    try:
        return ascii_domain(domain)
    except ValueError:
        raise LetterError("not a valid domain", field=field) from None


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


def _refuse_controls(text: str, *, field: str | None = None) -> None:
    # CR/LF would start a new header; other controls have no business in a header either.
    if has_forbidden_characters(text):
        raise HeaderInjection("control characters are not allowed", field=field)


def _header_text(text: str, *, field: str) -> str:
    """``text`` if it can go into a header as it is: no encoded-word, nothing unsafe."""
    if has_forbidden_characters(text):
        raise HeaderInjection("control or bidirectional characters are not allowed", field=field)
    if has_encoded_word(text):
        raise HeaderInjection("encoded-words are not allowed", field=field)
    return text


def _header_address(address: str, *, field: str) -> tuple[str, str]:
    """The parts of an address for a header; the parser would decode an encoded-word in either."""
    local, domain = split_address(address, field=field)
    _header_text(address, field=field)
    return local, domain


# --- The letter as it goes on the wire -------------------------------------------------------

# Which input field is at fault when a header comes out wrong.
_HEADER_FIELDS = {"From": "senderName", "To": "recipient", "Message-ID": "senderEmail"}


def _field_of(header: str, author: Address) -> str | None:
    if header == "From" and not author.display_name:
        return "senderEmail"
    return _HEADER_FIELDS.get(header)


def _header_write_errors() -> tuple[type[Exception], ...]:
    """``email.errors.HeaderWriteError`` where the interpreter has it (3.11.10+, 3.12.5+)."""
    error = getattr(email.errors, "HeaderWriteError", None)
    return (error,) if isinstance(error, type) and issubclass(error, Exception) else ()


def _check_wire(
    message: EmailMessage,
    *,
    policy: email.policy.EmailPolicy[EmailMessage],
    author: Address,
    reader: Address,
) -> None:
    """Refuse the letter unless, serialized with ``policy``, it says exactly what was set."""
    names = list(message.keys())
    # The header block exactly as the serialization writes it (BytesGenerator folds each
    # header with the policy's fold_binary, in order); the multipart boundary is set
    # already, so serializing changes no header. The parts' bodies are ours (base64).
    block: list[bytes] = []
    for name, value in message.raw_items():
        try:
            folded = policy.fold_binary(name, value)
        except _header_write_errors() as exc:
            raise HeaderInjection(
                "the header cannot be written", field=_field_of(name, author)
            ) from exc
        if not _is_one_header(folded, name=name, linesep=policy.linesep):
            raise HeaderInjection(
                "the header spans more than itself", field=_field_of(name, author)
            )
        block.append(folded)
    linesep = policy.linesep.encode("ascii")
    head = b"".join(block)[: -len(linesep)]
    # Each header was one header above; together they must still be exactly those set.
    lines = head.split(linesep)
    starts = [line.partition(b":")[0] for line in lines if line[:1] not in (b" ", b"\t")]
    if starts != [name.encode("ascii") for name in names]:
        raise HeaderInjection("the header block is not the one set")
    _compare_parsed(head + linesep * 2, names=names, author=author, reader=reader)


def _is_one_header(folded: bytes, *, name: str, linesep: str) -> bool:
    """What CPython 3.11.10 checks (``verify_generated_headers``), and a little more.

    One header: it ends with the line separator, its first line starts with its
    name and a colon, every other physical line starts with whitespace, no CR or
    LF is left inside a line, and no line holds a control or bidirectional character.
    """
    separator = linesep.encode("ascii")
    if not folded.endswith(separator):
        return False
    try:
        text = folded[: -len(separator)].decode("utf-8")
    except UnicodeDecodeError:
        return False
    lines = text.split(linesep)
    if not lines[0].startswith(f"{name}:"):
        return False
    for index, line in enumerate(lines):
        if index and line[:1] not in (" ", "\t"):
            return False
        if has_forbidden_characters(line[1:] if index else line):
            return False
    return True


def _compare_parsed(raw: bytes, *, names: list[str], author: Address, reader: Address) -> None:
    """Parse ``raw``'s headers as a receiving server would and compare them with what was set.

    Only the header block is parsed (``headersonly``): the parts below are ours, base64,
    and parsing them as MIME cost more than the rest of the letter together.
    """
    parser = email.parser.Parser(policy=email.policy.default)
    parsed = parser.parsestr(raw.decode("utf-8"), headersonly=True)
    if list(parsed.keys()) != names:
        raise HeaderInjection("the letter does not parse into the headers set")
    authors: tuple[Address, ...] = getattr(parsed["From"], "addresses", ())
    if (
        len(authors) != 1
        or authors[0].addr_spec != author.addr_spec
        # Folding splits a long encoded name, and the library's parser (unlike RFC 2047
        # readers) puts a space where the pieces meet: compare without whitespace.
        or _squash(authors[0].display_name) != _squash(author.display_name)
    ):
        raise HeaderInjection("From does not say what was set", field=_field_of("From", author))
    readers: tuple[Address, ...] = getattr(parsed["To"], "addresses", ())
    if [(a.display_name, a.addr_spec) for a in readers] != [("", reader.addr_spec)]:
        raise HeaderInjection("To does not say what was set", field="recipient")
    if has_forbidden_characters(authors[0].display_name):
        raise HeaderInjection("From shows characters that were not set", field="senderName")


def _squash(text: str) -> str:
    return "".join(text.split())
