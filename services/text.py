"""Text fields: single-line text a person reads, and the write-only password.

Each ``clean_*`` function of the services' validators takes the raw input value, the
camelCase name of the input field and a ``Problems`` collector. It returns the cleaned
value, or ``None`` when the value is missing (and optional) or wrong; in the latter case it
has added one ``FieldError`` for the field. Running every cleaner of a form before looking
at ``problems`` reports all its errors at once. Messages never name the field (they are
shown next to it) and never echo the value (it may be a secret). Which characters are
refused is ``textrules``'.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from i18n import Text
from services.errors import InputCode, Problems
from textrules import has_encoded_word, has_forbidden_characters

__all__ = ["FORBIDDEN_MESSAGE", "PASSWORD_MAX_LENGTH", "characters", "clean_password", "clean_text"]

PASSWORD_MAX_LENGTH: Final = 1024


# --- Messages --------------------------------------------------------------------------------

FORBIDDEN_MESSAGE = Text(
    ru="Уберите переводы строк, табуляцию и другие управляющие символы",
    en="Remove line breaks, tabs and other control characters",
)
_ENCODED_TEXT_MESSAGE = Text(
    ru="Закодированный текст вида =?…?= не принимается: введите текст так, как он должен выглядеть",
    en="Encoded text like =?…?= is not accepted: type the text as it should appear",
)
_REQUIRED_MESSAGE = Text(ru="Заполните это поле", en="This field is required")

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


def characters(count: int) -> Text:
    """``count`` characters after "не более" / "at most", e.g. "21 символа", "255 символов"."""
    ru = "символа" if count % 10 == 1 and count % 100 != 11 else "символов"
    en = "character" if count == 1 else "characters"
    return Text(ru=f"{count} {ru}", en=f"{count} {en}")


def _is_blank(value: str) -> bool:
    """Whether ``value`` has nothing visible: only spaces and format characters."""
    return all(unicodedata.category(char) in ("Zs", "Cf") for char in value)


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
        problems.missing(field, required_message, required=required)
        return None
    if has_forbidden_characters(value):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, FORBIDDEN_MESSAGE)
        return None
    if has_encoded_word(value):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, _ENCODED_TEXT_MESSAGE)
        return None
    text = unicodedata.normalize("NFC", value.strip())
    if _is_blank(text):
        problems.missing(field, required_message, required=required)
        return None
    if len(text) > max_length:
        limit = characters(max_length)
        message = Text(
            ru=f"Слишком длинное значение: не более {limit.ru} (сейчас {len(text)})",
            en=f"Too long: at most {limit.en} (now {len(text)})",
        )
        problems.report(field, InputCode.INVALID, message)
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
    if has_forbidden_characters(value, allow_bidi=True):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, _PASSWORD_FORBIDDEN)
        return None
    if len(value) > PASSWORD_MAX_LENGTH:
        problems.report(field, InputCode.INVALID, _PASSWORD_TOO_LONG)
        return None
    return value
