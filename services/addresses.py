"""Addresses: email addresses, SMTP host names and IP addresses, ports.

Validators in the style of services.text: raw value, camelCase field, ``Problems``. Email
addresses are checked with email-validator (IDN accepted, stored normalized, no DNS
look-ups; company domains such as ``corp.local``, ``home.arpa`` or dotless ones accepted);
hosts are turned into their ASCII form (mail.idn); nothing here resolves a name.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

import idna

from i18n import Text
from mail.idn import unicode_domain
from services.errors import InputCode, Problems
from services.text import FORBIDDEN_MESSAGE
from textrules import has_encoded_word, has_forbidden_characters

__all__ = [
    "EMAIL_MAX_LENGTH",
    "HOST_MAX_LENGTH",
    "LOCAL_PART_MAX_LENGTH",
    "clean_email",
    "clean_host",
    "clean_port",
    "parse_host",
]

EMAIL_MAX_LENGTH: Final = 254  # RFC 5321 §4.5.3.1.3: a 256-octet path less the angle brackets
LOCAL_PART_MAX_LENGTH: Final = 64  # RFC 5321 §4.5.3.1.1
HOST_MAX_LENGTH: Final = 253  # RFC 1035, without the trailing dot
LABEL_MAX_LENGTH: Final = 63

# Underscores are not in host names proper, but DNS and many company networks have them
# ("mail_srv.corp.local"), and resolvers and certificates handle them.
_ASCII_LABEL = re.compile(r"[a-z0-9_-]+")
#: Domains reserved for private networks that company mail servers really use; the
#: validator's default refuses them as "special-use", which would lock such relays out.
PRIVATE_MAIL_SUFFIXES = (".local", ".home.arpa")
_PLACEHOLDER_DOMAIN = "example.com"
# Labels that inet_aton() and so getaddrinfo() read as numbers: "127.1", "0x7f.1", "2130706433".
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_HOST_AND_PORT = re.compile(r"\[[^\]]*\]:[0-9]+|[^:\[\]]+:[0-9]+")
_ENCODED_EMAIL_MESSAGE = Text(
    ru="Закодированный текст вида =?…?= в адресе не принимается: введите адрес так, как он "
    "должен выглядеть",
    en="Encoded text like =?…?= is not accepted in an address: type the address as it should "
    "appear",
)

_EMAIL_REQUIRED = Text(ru="Укажите адрес электронной почты", en="Enter an email address")
_EMAIL_TOO_LONG = Text(
    ru=f"Адрес слишком длинный: не более {EMAIL_MAX_LENGTH} символов",
    en=f"The address is too long: at most {EMAIL_MAX_LENGTH} characters",
)
_EMAIL_LOCAL_TOO_LONG = Text(
    ru=f"Часть адреса до знака @ слишком длинная: не более {LOCAL_PART_MAX_LENGTH} символов",
    en=f"The part before the @ sign is too long: at most {LOCAL_PART_MAX_LENGTH} characters",
)
_EMAIL_NO_AT = Text(ru="В адресе нет знака @", en="The address has no @ sign")
_EMAIL_NOT_BARE = Text(
    ru="Укажите только сам адрес, без имени, кавычек и угловых скобок",
    en="Enter the bare address, without a name, quotes or angle brackets",
)
_EMAIL_SPACES = Text(
    ru="В адресе не должно быть пробелов", en="An email address cannot contain spaces"
)
_EMAIL_INVALID = Text(
    ru="Проверьте адрес: он должен выглядеть как ivan@example.ru",
    en="Check the address: it should look like ivan@example.ru",
)

_HOST_REQUIRED = Text(ru="Укажите адрес SMTP-сервера", en="Enter the SMTP server address")
_HOST_SPACES = Text(
    ru="В имени сервера не должно быть пробелов", en="A server name cannot contain spaces"
)
_HOST_URL = Text(
    ru="Укажите только имя сервера, например smtp.yandex.ru, без «smtp://» и пути",
    en="Enter just the server name, e.g. smtp.yandex.ru, without “smtp://” or a path",
)
_HOST_EMAIL = Text(
    ru="Здесь нужно имя сервера, например smtp.yandex.ru, а не адрес почты",
    en="Enter a server name, e.g. smtp.yandex.ru, not an email address",
)
_HOST_WITH_PORT = Text(
    ru="Порт указывается в отдельном поле: здесь оставьте только имя сервера",
    en="The port has a field of its own: leave only the server name here",
)
_HOST_TOO_LONG = Text(
    ru=f"Имя сервера слишком длинное: не более {HOST_MAX_LENGTH} символов",
    en=f"The server name is too long: at most {HOST_MAX_LENGTH} characters",
)
_HOST_LABEL_TOO_LONG = Text(
    ru=f"Каждая часть имени сервера между точками — не более {LABEL_MAX_LENGTH} символов",
    en=f"Each part of the server name between dots may have at most {LABEL_MAX_LENGTH} characters",
)
_HOST_EMPTY_LABEL = Text(
    ru="Имя сервера не может начинаться с точки или содержать две точки подряд",
    en="A server name cannot start with a dot or have two dots in a row",
)
_HOST_HYPHEN = Text(
    ru="Части имени сервера не могут начинаться или заканчиваться дефисом",
    en="Parts of a server name cannot start or end with a hyphen",
)
_HOST_CHARACTERS = Text(
    ru="Имя сервера может содержать только буквы, цифры, дефисы и точки",
    en="A server name may contain only letters, digits, hyphens and dots",
)
_HOST_PUNYCODE = Text(
    ru="Неверная запись международного имени (часть, начинающаяся с «xn--»)",
    en="Invalid internationalized name (the part starting with “xn--”)",
)
_HOST_NUMERIC_END = Text(
    ru="Последняя часть имени сервера не может состоять только из цифр",
    en="The last part of a server name cannot be all digits",
)
_HOST_BAD_IPV4 = Text(
    ru="Неверный IP-адрес: нужны четыре числа от 0 до 255 через точку, например 192.168.1.10",
    en="Invalid IP address: use four numbers from 0 to 255 separated by dots, e.g. 192.168.1.10",
)
_HOST_BAD_IPV6 = Text(ru="Неверный IPv6-адрес", en="Invalid IPv6 address")
_HOST_BRACKETS = Text(
    ru="В квадратных скобках можно указать только IP-адрес",
    en="Only an IP address may be given in square brackets",
)

_PORT_REQUIRED = Text(ru="Укажите порт", en="Enter the port")
_PORT_INVALID = Text(
    ru="Порт — целое число от 1 до 65535", en="The port must be a whole number from 1 to 65535"
)


# --- Email -----------------------------------------------------------------------------------


def clean_email(
    value: str | None, *, field: str, problems: Problems, required: bool = True
) -> str | None:
    """A bare addr-spec (no display name, no quoted local part) in its normalized form.

    The stored form is email-validator's ``normalized`` one: the local part
    NFC-normalized (case kept), the domain lowercased in Unicode
    ("user@ЯНДЕКС.РУ" → "user@яндекс.ру"; an "xn--" domain is turned into
    Unicode too; RFC 2142 role names such as "Postmaster" are lowercased). Use
    ``email_to_ascii`` for the form SMTP commands need. The local part is at
    most 64 characters, the whole address 254. An RFC 2047 encoded-word is made
    of characters valid in a local part, but the mail library decodes it in a
    header: FORBIDDEN_CHARACTERS.
    """
    if value is None:
        problems.missing(field, _EMAIL_REQUIRED, required=required)
        return None
    if has_forbidden_characters(value):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, FORBIDDEN_MESSAGE)
        return None
    if has_encoded_word(value):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, _ENCODED_EMAIL_MESSAGE)
        return None
    text = value.strip()
    if not text:
        problems.missing(field, _EMAIL_REQUIRED, required=required)
        return None
    message: Text | None = None
    if len(text) > EMAIL_MAX_LENGTH:
        message = _EMAIL_TOO_LONG
    elif any(char in text for char in '<>"'):
        message = _EMAIL_NOT_BARE
    elif any(char.isspace() for char in text):
        message = _EMAIL_SPACES
    elif "@" not in text:
        message = _EMAIL_NO_AT
    elif len(text.rpartition("@")[0]) > LOCAL_PART_MAX_LENGTH:
        message = _EMAIL_LOCAL_TOO_LONG
    else:
        normalized = _validate_address(text)
        if normalized is not None:
            return normalized
        message = _EMAIL_INVALID
    problems.report(field, InputCode.INVALID, message)
    return None


def _validate_address(text: str) -> str | None:
    """email-validator's normalized form, or None; private-network domains are accepted."""
    local, _, domain = text.rpartition("@")
    private = domain.lower().removesuffix(".").endswith(PRIVATE_MAIL_SUFFIXES)
    candidate = f"{local}@{_PLACEHOLDER_DOMAIN}" if private else text
    # Imported on the first address checked, not at start-up (its regexes take a while).
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(
            candidate,
            check_deliverability=False,
            # Company relays serve dotless and private domains ("corp.internal").
            globally_deliverable=False,
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_display_name=False,
            allow_domain_literal=False,
            allow_empty_local=False,
        )
    except EmailNotValidError:
        return None
    if not private:
        return str(result.normalized)
    host, problem = parse_host(domain)
    if problem is not None or host is None or ":" in host or host.replace(".", "").isdigit():
        return None
    return f"{result.local_part}@{unicode_domain(host)}"


# --- SMTP host -------------------------------------------------------------------------------


def clean_host(value: str | None, *, field: str, problems: Problems, required: bool) -> str | None:
    """A host name or IP address to connect to, in ASCII.

    Names are lowercased, internationalized ones converted to punycode
    ("ПОЧТА.рф" → "xn--80a1acny.xn--p1ai"), a trailing dot is dropped;
    labels are 1-63 characters of a-z, 0-9 and "-" (not at either end), the
    name at most 253. IPv4 and IPv6 addresses are accepted, IPv6 also in
    [brackets], and returned in their canonical form without brackets.
    Numeric forms that ``getaddrinfo`` would read as an address ("127.1",
    "0x7f.0.0.1") are refused. Where the server may connect is checked later.
    """
    if value is None:
        problems.missing(field, _HOST_REQUIRED, required=required)
        return None
    if has_forbidden_characters(value):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, FORBIDDEN_MESSAGE)
        return None
    text = value.strip()
    if not text:
        problems.missing(field, _HOST_REQUIRED, required=required)
        return None
    host, message = parse_host(text)
    if message is not None:
        problems.report(field, InputCode.INVALID, message)
    return host


def parse_host(text: str) -> tuple[str | None, Text | None]:
    """The ASCII host for a stripped, non-empty ``text``, or the reason it is refused."""
    if len(text) > HOST_MAX_LENGTH + 3:  # room for brackets and a trailing dot
        return None, _HOST_TOO_LONG
    if any(char.isspace() for char in text):
        return None, _HOST_SPACES
    if "://" in text or "/" in text:
        return None, _HOST_URL
    if "@" in text:
        return None, _HOST_EMAIL
    if _HOST_AND_PORT.fullmatch(text):
        return None, _HOST_WITH_PORT
    if text.startswith("[") or text.endswith("]"):
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else ""
        for parse in (ipaddress.IPv6Address, ipaddress.IPv4Address):
            address = _ip(parse, inner)
            if address is not None:
                return address, None
        return None, _HOST_BRACKETS
    if ":" in text:
        address = _ip(ipaddress.IPv6Address, text)
        return (address, None) if address is not None else (None, _HOST_BAD_IPV6)
    address = _ip(ipaddress.IPv4Address, text.removesuffix("."))
    if address is not None:
        return address, None
    return _parse_name(text)


def _ip(parse: type[ipaddress.IPv4Address | ipaddress.IPv6Address], text: str) -> str | None:
    """The canonical form of an IP address, or None; IPv6 zone ids ("%eth0") are refused."""
    if "%" in text:
        return None
    try:
        return str(parse(text))
    except ValueError:
        return None


def _parse_name(text: str) -> tuple[str | None, Text | None]:
    """The ASCII form of a host name, or the reason it is refused."""
    if text.isascii():
        name = text.lower()
    else:
        try:  # full-width letters and dots, upper case, ... → their plain lowercase forms
            name = idna.uts46_remap(text, std3_rules=False)
        except ValueError:  # idna.IDNAError is a ValueError
            return None, _HOST_CHARACTERS
    name = name.removesuffix(".")
    labels = name.split(".")
    if any(not label for label in labels):
        return None, _HOST_EMPTY_LABEL
    ascii_labels: list[str] = []
    for label in labels:
        if len(label) > LABEL_MAX_LENGTH:  # an A-label is never shorter than its U-label
            return None, _HOST_LABEL_TOO_LONG
        if label.startswith("-") or label.endswith("-"):
            return None, _HOST_HYPHEN
        if label.isascii():
            if not _ASCII_LABEL.fullmatch(label):
                return None, _HOST_CHARACTERS
            if label.startswith("xn--"):
                try:
                    idna.ulabel(label)
                except ValueError:
                    return None, _HOST_PUNYCODE
            ascii_labels.append(label)
            continue
        try:
            idna.check_label(label)
        except ValueError:
            return None, _HOST_CHARACTERS
        a_label = "xn--" + label.encode("punycode").decode("ascii")
        if len(a_label) > LABEL_MAX_LENGTH:
            return None, _HOST_LABEL_TOO_LONG
        ascii_labels.append(a_label)
    if all(_NUMERIC_LABEL.fullmatch(label) for label in ascii_labels):
        return None, _HOST_BAD_IPV4
    if ascii_labels[-1].isdigit():
        return None, _HOST_NUMERIC_END
    host = ".".join(ascii_labels)
    if len(host) > HOST_MAX_LENGTH:
        return None, _HOST_TOO_LONG
    return host, None


def clean_port(value: int | None, *, field: str, problems: Problems, required: bool) -> int | None:
    """A TCP port, 1-65535."""
    if value is None:
        problems.missing(field, _PORT_REQUIRED, required=required)
        return None
    if isinstance(value, bool) or not 1 <= value <= 65535:
        problems.report(field, InputCode.INVALID, _PORT_INVALID)
        return None
    return value
