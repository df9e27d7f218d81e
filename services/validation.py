"""Input validators shared by every mutation: pure, synchronous, two-language.

Each ``clean_*`` function takes the raw input value, the camelCase name of the
input field and a ``Problems`` collector. It returns the cleaned value, or
``None`` when the value is missing (and optional) or wrong; in the latter case
it has added one ``FieldError`` for the field. Running every cleaner of a form
before looking at ``problems`` reports all its errors at once.

Messages never name the field (they are shown next to it) and never echo the
value (it may be a secret).

Error codes are the enum values of the payloads' error enums: ``REQUIRED``,
``INVALID`` (also for values that are too long; the message says the limit)
and ``FORBIDDEN_CHARACTERS``, also for RFC 2047 encoded-words ("=?utf-8?b?...?=")
in displayed text and addresses: the mail library decodes them into headers, and
a decoded line break would forge one (see ``mail.letter``).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

import idna
from email_validator import EmailNotValidError, validate_email

from i18n import Text
from mail.letter import has_encoded_word

__all__ = [
    "EMAIL_MAX_LENGTH",
    "FORBIDDEN_CHARACTERS",
    "HOST_MAX_LENGTH",
    "INVALID",
    "KPP_PATTERN",
    "LOCAL_PART_MAX_LENGTH",
    "PASSWORD_MAX_LENGTH",
    "REQUIRED",
    "FieldError",
    "Problems",
    "clean_email",
    "clean_host",
    "clean_inn",
    "clean_kpp",
    "clean_password",
    "clean_port",
    "clean_text",
    "email_requires_smtputf8",
    "email_to_ascii",
    "has_forbidden_characters",
    "inn_checksum",
    "inn_is_valid",
]

REQUIRED: Final = "REQUIRED"
INVALID: Final = "INVALID"
FORBIDDEN_CHARACTERS: Final = "FORBIDDEN_CHARACTERS"

EMAIL_MAX_LENGTH: Final = 254  # RFC 5321 §4.5.3.1.3: a 256-octet path less the angle brackets
LOCAL_PART_MAX_LENGTH: Final = 64  # RFC 5321 §4.5.3.1.1
HOST_MAX_LENGTH: Final = 253  # RFC 1035, without the trailing dot
LABEL_MAX_LENGTH: Final = 63
PASSWORD_MAX_LENGTH: Final = 1024

# KPP per the FNS format NNNNPPNNN (order ММВ-7-6/435@): the tax office code,
# the reason code, whose two characters may be digits or capital Latin letters
# since 2013, and a sequence number.
KPP_PATTERN: Final = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")

_INN10_WEIGHTS: Final = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS: Final = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS: Final = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

# C0 controls (tab included), DEL, C1 controls (NEL included), the Unicode line
# and paragraph separators, and lone surrogates (they cannot be encoded as UTF-8).
# Also the explicit bidirectional overrides, embeddings and isolates, and a stray byte
# order mark: in a sender or firm name they make text show other than it is ("spoofing").
_BIDI = "\u202a-\u202e\u2066-\u2069\ufeff"
_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{_BIDI}]")
_FORBIDDEN_EXCEPT_TAB = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{_BIDI}]")
# A password is never displayed: only what would break AUTH (controls, lone surrogates).
_PASSWORD_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

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


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one input field (``field=None``: with the whole form)."""

    field: str | None
    code: str
    message: Text


class Problems:
    """Collects the field errors of one form, so they are all reported at once."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, error: FieldError) -> None:
        """Record an error."""
        self.errors.append(error)

    def report(self, field: str | None, code: str, message: Text) -> None:
        """Record an error given by its parts."""
        self.errors.append(FieldError(field, code, message))

    def has(self, field: str | None) -> bool:
        """Whether an error was recorded for ``field``."""
        return any(error.field == field for error in self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def __repr__(self) -> str:
        return f"Problems({self.errors!r})"


# --- Messages --------------------------------------------------------------------------------

_FORBIDDEN_MESSAGE = Text(
    ru="Уберите переводы строк, табуляцию и другие управляющие символы",
    en="Remove line breaks, tabs and other control characters",
)
_ENCODED_TEXT_MESSAGE = Text(
    ru="Закодированный текст вида =?…?= не принимается: введите текст так, как он должен выглядеть",
    en="Encoded text like =?…?= is not accepted: type the text as it should appear",
)
_ENCODED_EMAIL_MESSAGE = Text(
    ru="Закодированный текст вида =?…?= в адресе не принимается: введите адрес так, как он "
    "должен выглядеть",
    en="Encoded text like =?…?= is not accepted in an address: type the address as it should "
    "appear",
)
_REQUIRED_MESSAGE = Text(ru="Заполните это поле", en="This field is required")

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

_PASSWORD_FORBIDDEN = Text(
    ru="Пароль не может содержать переводы строк и управляющие символы: "
    "проверьте, не скопировался ли лишний символ",
    en="A password cannot contain line breaks or control characters: "
    "check that no extra character was copied",
)
_PASSWORD_TOO_LONG = Text(
    ru=f"Пароль слишком длинный: не более {PASSWORD_MAX_LENGTH} символов",
    en=f"The password is too long: at most {PASSWORD_MAX_LENGTH} characters",
)

_KPP_REQUIRED = Text(ru="Укажите КПП", en="Enter the KPP")
_INN_REQUIRED = Text(ru="Укажите ИНН", en="Enter the INN (taxpayer number)")
_INN_DIGITS = Text(ru="ИНН состоит только из цифр", en="The INN may contain digits only")
_INN_LENGTH = Text(
    ru="ИНН должен состоять из 10 или 12 цифр (сейчас цифр: {length})",
    en="The INN must have 10 or 12 digits (it has {length})",
)
_INN_CHECKSUM = Text(
    ru="Неверная контрольная сумма ИНН: проверьте, нет ли опечатки",
    en="The INN check digits do not match: check it for typos",
)

_KPP_LENGTH = Text(
    ru="КПП должен состоять из 9 символов (сейчас символов: {length})",
    en="The KPP must have 9 characters (it has {length})",
)
_KPP_FORMAT = Text(
    ru="КПП состоит из цифр, только 5-й и 6-й знаки могут быть латинскими буквами",
    en="The KPP consists of digits; only its 5th and 6th characters may be Latin letters",
)


def _characters(count: int) -> Text:
    """``count`` characters after "не более" / "at most", e.g. "21 символа", "255 символов"."""
    ru = "символа" if count % 10 == 1 and count % 100 != 11 else "символов"
    en = "character" if count == 1 else "characters"
    return Text(ru=f"{count} {ru}", en=f"{count} {en}")


# --- Text ------------------------------------------------------------------------------------


def has_forbidden_characters(value: str, *, allow_tab: bool = False) -> bool:
    """Whether ``value`` holds a character refused in single-line fields.

    Refused: C0 controls (CR, LF, NUL, ...; the tab unless ``allow_tab``), DEL,
    C1 controls (NEL included), U+2028 LINE SEPARATOR, U+2029 PARAGRAPH
    SEPARATOR, lone surrogates, bidirectional overrides/isolates and U+FEFF.
    Other format characters such as zero-width joiners are allowed: names in
    several scripts (and emoji) need them.
    """
    pattern = _FORBIDDEN_EXCEPT_TAB if allow_tab else _FORBIDDEN
    return pattern.search(value) is not None


def _is_blank(value: str) -> bool:
    """Whether ``value`` has nothing visible: only spaces and format characters."""
    return all(unicodedata.category(char) in ("Zs", "Cf") for char in value)


def _missing(field: str, problems: Problems, required: bool, message: Text) -> None:
    if required:
        problems.report(field, REQUIRED, message)


def clean_text(
    value: str | None,
    *,
    field: str,
    problems: Problems,
    required: bool,
    max_length: int,
    label: Text | None = None,
) -> str | None:
    """A single-line text: stripped, NFC-normalized, at most ``max_length`` characters.

    Blank values are missing (``None``). ``label`` names what to enter in the
    accusative case, e.g. ``Text(ru="название фирмы", en="the firm name")``,
    and makes the REQUIRED message "Укажите название фирмы"; without it the
    message is "Заполните это поле". Such text is displayed (and a sender name goes
    into From): control and bidirectional characters and RFC 2047 encoded-words are
    FORBIDDEN_CHARACTERS.
    """
    required_message = (
        _REQUIRED_MESSAGE
        if label is None
        else Text(ru=f"Укажите {label.ru}", en=f"Enter {label.en}")
    )
    if value is None:
        _missing(field, problems, required, required_message)
        return None
    if has_forbidden_characters(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _FORBIDDEN_MESSAGE)
        return None
    if has_encoded_word(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _ENCODED_TEXT_MESSAGE)
        return None
    text = unicodedata.normalize("NFC", value.strip())
    if _is_blank(text):
        _missing(field, problems, required, required_message)
        return None
    if len(text) > max_length:
        limit = _characters(max_length)
        message = Text(
            ru=f"Слишком длинное значение: не более {limit.ru} (сейчас {len(text)})",
            en=f"Too long: at most {limit.en} (now {len(text)})",
        )
        problems.report(field, INVALID, message)
        return None
    return text


def clean_password(value: str | None, *, field: str = "password", problems: Problems) -> str | None:
    """A password as typed (not stripped: spaces may belong to it); ``None`` when omitted.

    Any printable Unicode is accepted; control characters (an accidentally
    copied line break; NUL would also break AUTH PLAIN) and lone surrogates are
    refused. Whether a missing password is an error is the caller's decision.
    """
    if value is None or value == "":
        return None
    if _PASSWORD_REFUSED.search(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _PASSWORD_FORBIDDEN)
        return None
    if len(value) > PASSWORD_MAX_LENGTH:
        problems.report(field, INVALID, _PASSWORD_TOO_LONG)
        return None
    return value


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
        _missing(field, problems, required, _EMAIL_REQUIRED)
        return None
    if has_forbidden_characters(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _FORBIDDEN_MESSAGE)
        return None
    if has_encoded_word(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _ENCODED_EMAIL_MESSAGE)
        return None
    text = value.strip()
    if not text:
        _missing(field, problems, required, _EMAIL_REQUIRED)
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
    problems.report(field, INVALID, message)
    return None


def _validate_address(text: str) -> str | None:
    """email-validator's normalized form, or None; private-network domains are accepted."""
    local, _, domain = text.rpartition("@")
    private = domain.lower().removesuffix(".").endswith(PRIVATE_MAIL_SUFFIXES)
    candidate = f"{local}@{_PLACEHOLDER_DOMAIN}" if private else text
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
    host, problem = _parse_host(domain)
    if problem is not None or host is None or ":" in host or host.replace(".", "").isdigit():
        return None
    unicode_domain = ".".join(
        idna.decode(label) if label.startswith("xn--") else label for label in host.split(".")
    )
    return f"{result.local_part}@{unicode_domain}"


def email_to_ascii(address: str) -> str:
    """``address`` with its domain in the ASCII (punycode) form, for SMTP and headers.

    "почта@пример.рф" → "почта@xn--e1afmkfd.xn--p1ai". The local part is kept:
    a non-ASCII one needs the server's SMTPUTF8 (``email_requires_smtputf8``).
    Raises ``ValueError`` for a string that is not an address.
    """
    local, at, domain = address.rpartition("@")
    if not local or not at or not domain:
        raise ValueError("not an email address")
    if domain.isascii():
        return f"{local}@{domain.lower()}"
    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


def email_requires_smtputf8(address: str) -> bool:
    """Whether sending to or from ``address`` needs SMTPUTF8 (a non-ASCII local part)."""
    return not address.rpartition("@")[0].isascii()


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
        _missing(field, problems, required, _HOST_REQUIRED)
        return None
    if has_forbidden_characters(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _FORBIDDEN_MESSAGE)
        return None
    text = value.strip()
    if not text:
        _missing(field, problems, required, _HOST_REQUIRED)
        return None
    host, message = _parse_host(text)
    if message is not None:
        problems.report(field, INVALID, message)
    return host


def _parse_host(text: str) -> tuple[str | None, Text | None]:
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
        _missing(field, problems, required, _PORT_REQUIRED)
        return None
    if isinstance(value, bool) or not 1 <= value <= 65535:
        problems.report(field, INVALID, _PORT_INVALID)
        return None
    return value


# --- INN and KPP -----------------------------------------------------------------------------


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True)) % 11 % 10


def inn_checksum(digits: str) -> str:
    """The check digits to append to the first 9 (legal entity) or 10 (individual) INN digits."""
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in (9, 10):
        raise ValueError("expected the first 9 or 10 digits of an INN")
    if len(digits) == 9:
        return str(_check_digit(digits, _INN10_WEIGHTS))
    first = str(_check_digit(digits, _INN11_WEIGHTS))
    return first + str(_check_digit(digits + first, _INN12_WEIGHTS))


def inn_is_valid(inn: str) -> bool:
    """Whether ``inn`` is a Russian INN: 10 or 12 ASCII digits with the official check digits."""
    if not (inn.isascii() and inn.isdigit()) or len(inn) not in (10, 12):
        return False
    body = inn[:9] if len(inn) == 10 else inn[:10]
    return inn_checksum(body) == inn[len(body) :]


def clean_inn(value: str | None, *, field: str = "inn", problems: Problems) -> str | None:
    """A required INN: 10 digits for an organization, 12 for an individual; checksum verified."""
    if value is None:
        problems.report(field, REQUIRED, _INN_REQUIRED)
        return None
    if has_forbidden_characters(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _FORBIDDEN_MESSAGE)
        return None
    text = value.strip()
    if not text:
        problems.report(field, REQUIRED, _INN_REQUIRED)
        return None
    if not (text.isascii() and text.isdigit()):
        problems.report(field, INVALID, _INN_DIGITS)
        return None
    if len(text) not in (10, 12):
        problems.report(field, INVALID, _INN_LENGTH.format(length=len(text)))
        return None
    if not inn_is_valid(text):
        problems.report(field, INVALID, _INN_CHECKSUM)
        return None
    return text


def clean_kpp(
    value: str | None, *, field: str = "kpp", problems: Problems, required: bool = False
) -> str | None:
    """A KPP in the FNS format NNNNPPNNN: 9 characters, digits except the reason code (5th-6th).

    The 5th and 6th characters may be capital Latin letters (lower case is
    accepted and capitalized); all other characters are digits.
    """
    if value is None:
        _missing(field, problems, required, _KPP_REQUIRED)
        return None
    if has_forbidden_characters(value):
        problems.report(field, FORBIDDEN_CHARACTERS, _FORBIDDEN_MESSAGE)
        return None
    text = value.strip()
    if not text:
        _missing(field, problems, required, _KPP_REQUIRED)
        return None
    if len(text) != 9:
        problems.report(field, INVALID, _KPP_LENGTH.format(length=len(text)))
        return None
    text = text.upper() if text.isascii() else text
    if not KPP_PATTERN.fullmatch(text):
        problems.report(field, INVALID, _KPP_FORMAT)
        return None
    return text
