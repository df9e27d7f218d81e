"""A firm's requisites: the INN (taxpayer number) and the KPP (registration reason code).

Validators in the style of services.text. The INN is 10 digits for an organization, 12 for
an individual, with the Federal Tax Service's check digits; the KPP is 9 characters.
"""

from __future__ import annotations

import re
from typing import Final

from i18n import Text
from services.errors import InputCode, Problems
from services.text import FORBIDDEN_MESSAGE
from textrules import has_forbidden_characters

__all__ = ["KPP_PATTERN", "clean_inn", "clean_kpp", "inn_checksum", "inn_is_valid"]

# KPP per the FNS format NNNNPPNNN (order ММВ-7-6/435@): the tax office code,
# the reason code, whose two characters may be digits or capital Latin letters
# since 2013, and a sequence number.
KPP_PATTERN: Final = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")

_INN10_WEIGHTS: Final = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS: Final = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS: Final = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

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
        problems.report(field, InputCode.REQUIRED, _INN_REQUIRED)
        return None
    if has_forbidden_characters(value):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, FORBIDDEN_MESSAGE)
        return None
    text = value.strip()
    if not text:
        problems.report(field, InputCode.REQUIRED, _INN_REQUIRED)
        return None
    if not (text.isascii() and text.isdigit()):
        problems.report(field, InputCode.INVALID, _INN_DIGITS)
        return None
    if len(text) not in (10, 12):
        problems.report(field, InputCode.INVALID, _INN_LENGTH.format(length=len(text)))
        return None
    if not inn_is_valid(text):
        problems.report(field, InputCode.INVALID, _INN_CHECKSUM)
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
        problems.missing(field, _KPP_REQUIRED, required=required)
        return None
    if has_forbidden_characters(value):
        problems.report(field, InputCode.FORBIDDEN_CHARACTERS, FORBIDDEN_MESSAGE)
        return None
    text = value.strip()
    if not text:
        problems.missing(field, _KPP_REQUIRED, required=required)
        return None
    if len(text) != 9:
        problems.report(field, InputCode.INVALID, _KPP_LENGTH.format(length=len(text)))
        return None
    text = text.upper() if text.isascii() else text
    if not KPP_PATTERN.fullmatch(text):
        problems.report(field, InputCode.INVALID, _KPP_FORMAT)
        return None
    return text
