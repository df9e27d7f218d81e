"""Input validators: examples and properties."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from i18n import Text
from mail.letter import needs_smtputf8, smtp_address
from services.addresses import clean_email, clean_host, clean_port
from services.errors import FieldError, InputCode, MailFormCode, Problems
from services.requisites import clean_inn, clean_kpp, inn_checksum, inn_is_valid
from services.text import clean_password, clean_text
from textrules import has_forbidden_characters

FAST = settings(max_examples=200, deadline=None)

Cleaner = Callable[[str | None, Problems], object]

# Every cleaner of text input, as (value, problems) -> result.
CLEANERS: dict[str, Cleaner] = {
    "text": lambda v, p: clean_text(v, field="firmName", problems=p, required=True, max_length=255),
    "optional text": lambda v, p: clean_text(
        v, field="outletAddress", problems=p, required=False, max_length=500
    ),
    "email": lambda v, p: clean_email(v, field="senderEmail", problems=p),
    "host": lambda v, p: clean_host(v, field="smtpHost", problems=p, required=True),
    "inn": lambda v, p: clean_inn(v, field="firmInn", problems=p),
    "kpp": lambda v, p: clean_kpp(v, field="firmKpp", problems=p),
    "password": lambda v, p: clean_password(v, field="mailPassword", problems=p),
}

# A usable value for each cleaner, to wrap forbidden characters in.
GOOD_VALUES = {
    "text": "ООО «Ромашка»",
    "optional text": "Москва, ул. Ленина, 1",
    "email": "ivan@example.ru",
    "host": "smtp.yandex.ru",
    "inn": "7707083893",
    "kpp": "773601001",
    "password": "abcd efgh ijkl mnop",
}

FORBIDDEN_EXAMPLES = ["\r", "\n", "\r\n", "\x00", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]


def run(name: str, value: str | None) -> tuple[object, list[FieldError]]:
    problems = Problems()
    result = CLEANERS[name](value, problems)
    return result, problems.errors


def codes(problems: Problems) -> list[tuple[str | None, str]]:
    return [(error.field, error.code) for error in problems.errors]


# --- Problems and FieldError -----------------------------------------------------------------


def test_problems_collects_errors_of_a_whole_form() -> None:
    problems = Problems()
    assert not problems
    name = clean_text("ООО\nРомашка", field="name", problems=problems, required=True, max_length=9)
    inn = clean_inn("7707083894", problems=problems)
    kpp = clean_kpp("77360100", problems=problems)
    port = clean_port(0, field="port", problems=problems, required=True)
    email = clean_email(None, field="address", problems=problems)
    host = clean_host("smtp.yandex.ru", field="smtpHost", problems=problems, required=True)
    assert (name, inn, kpp, port, email) == (None, None, None, None, None)
    assert host == "smtp.yandex.ru"
    assert problems
    assert len(problems) == 5
    assert codes(problems) == [
        ("name", InputCode.FORBIDDEN_CHARACTERS),
        ("inn", InputCode.INVALID),
        ("kpp", InputCode.INVALID),
        ("port", InputCode.INVALID),
        ("address", InputCode.REQUIRED),
    ]
    assert problems.has("inn")
    assert not problems.has("smtpHost")


def test_problems_add_and_field_error() -> None:
    problems = Problems()
    error = FieldError(
        field=None, code=MailFormCode.MAIL_TAB_UNAVAILABLE, message=Text(ru="Нет", en="No")
    )
    problems.add(error)
    assert problems.errors == [error]
    assert error.message("en") == "No"
    with pytest.raises(AttributeError):
        error.code = InputCode.INVALID  # type: ignore[misc]


# --- Text ------------------------------------------------------------------------------------


def test_clean_text_strips_and_normalizes() -> None:
    problems = Problems()
    decomposed = "Е\u0308лка"  # Е + combining diaeresis
    assert (
        clean_text(
            f"  {decomposed} ", field="name", problems=problems, required=True, max_length=10
        )
        == "Ёлка"
    )
    assert not problems


@pytest.mark.parametrize("value", [None, "", "   ", "\u00a0\u200b"])
def test_clean_text_missing(value: str | None) -> None:
    problems = Problems()
    assert clean_text(value, field="name", problems=problems, required=True, max_length=10) is None
    assert codes(problems) == [("name", InputCode.REQUIRED)]
    assert problems.errors[0].message == Text(ru="Заполните это поле", en="This field is required")

    optional = Problems()
    assert clean_text(value, field="name", problems=optional, required=False, max_length=10) is None
    assert not optional


def test_clean_text_required_message_uses_the_label() -> None:
    problems = Problems()
    label = Text(ru="название фирмы", en="the firm name")
    clean_text(" ", field="name", problems=problems, required=True, max_length=10, label=label)
    assert problems.errors[0].message == Text(ru="Укажите название фирмы", en="Enter the firm name")


@pytest.mark.parametrize(
    ("limit", "ru", "en"),
    [
        (1, "не более 1 символа", "at most 1 character"),
        (11, "не более 11 символов", "at most 11 characters"),
        (21, "не более 21 символа", "at most 21 characters"),
        (255, "не более 255 символов", "at most 255 characters"),
    ],
)
def test_clean_text_too_long_says_the_limit(limit: int, ru: str, en: str) -> None:
    problems = Problems()
    value = "я" * (limit + 1)
    assert (
        clean_text(value, field="name", problems=problems, required=True, max_length=limit) is None
    )
    assert codes(problems) == [("name", InputCode.INVALID)]
    message = problems.errors[0].message
    assert ru in message.ru
    assert f"сейчас {limit + 1}" in message.ru
    assert en in message.en
    assert clean_text(
        "я" * limit, field="name", problems=Problems(), required=True, max_length=limit
    )


def test_has_forbidden_characters() -> None:
    for char in FORBIDDEN_EXAMPLES:
        assert has_forbidden_characters(f"a{char}b"), repr(char)
    assert not has_forbidden_characters("a\tb", allow_tab=True)
    assert has_forbidden_characters("a\t\nb", allow_tab=True)
    assert not has_forbidden_characters("Тест — «кавычки» 😀 a\u200db\u00a0c")


@pytest.mark.parametrize("name", CLEANERS)
@pytest.mark.parametrize("char", FORBIDDEN_EXAMPLES)
def test_every_cleaner_refuses_control_characters(name: str, char: str) -> None:
    good = GOOD_VALUES[name]
    for value in (good + char, char + good, good[:3] + char + good[3:], char):
        result, errors = run(name, value)
        assert result is None
        assert [(error.code) for error in errors] == [InputCode.FORBIDDEN_CHARACTERS], (name, value)
    result, errors = run(name, good)
    assert result is not None
    assert errors == []


#: RFC 2047 encoded-words: the mail library decodes them in names and addresses.
ENCODED_WORDS = [
    "=?utf-8?b?DQpTdWJqZWN0OiBVUkdFTlQgaW52b2ljZQ0KUmVwbHktVG86IGF0dGFja2VyQGV2aWwuZXhhbXBs"
    "ZQ0KDQpQYXkgdG8gSUJBTiBYWDAwIEVWSUwNCg==?=",
    "=?utf-8?q?a=0D=0ABcc:_v@corp.local?=",
    "=?utf-8?b?4oCuZXZpbA==?=",  # U+202E RIGHT-TO-LEFT OVERRIDE, then "evil"
    "=?utf-8*ru?b?DQpCY2M6IHZAY29ycC5sb2NhbA==?=",
    "=?UTF-8?Q?=0D=0A?=",
    "=?koi8-r?B?98HT?=",
    "=??q?a?=",
    "=?utf-8?q?a b?=",
    "=?utf-8?b?",  # unfinished: the parser takes the rest of the header into it
    "=?x?Q?=41 and the rest",
]
#: Text with "=?" or "?=" that is no encoded-word: accepted.
NOT_ENCODED_WORDS = [
    "Что =? не так",
    "a=?b?c",
    "2+2 =? ?= 4",
    "=?utf-8?x?abc?=",
    "Shop ?= =?",
    "=?utf-8?bq?abc?=",
]
TEXT_AND_EMAIL = ["text", "optional text", "email"]


@pytest.mark.parametrize("name", TEXT_AND_EMAIL)
@pytest.mark.parametrize("word", ENCODED_WORDS)
def test_displayed_text_and_addresses_refuse_encoded_words(name: str, word: str) -> None:
    good = GOOD_VALUES[name]
    values = [f"{word}@example.ru", f"ivan@{word}"] if name == "email" else [word, f"{good} {word}"]
    for value in values:
        result, errors = run(name, value)
        assert result is None, value
        assert [error.code for error in errors] == [InputCode.FORBIDDEN_CHARACTERS], value
        assert "=?…?=" in errors[0].message.ru and "=?…?=" in errors[0].message.en


@pytest.mark.parametrize("text", NOT_ENCODED_WORDS)
def test_text_with_question_marks_and_equals_signs_is_accepted(text: str) -> None:
    problems = Problems()
    assert clean_text(text, field="senderName", problems=problems, required=True, max_length=50)
    assert not problems


def test_an_address_with_equals_and_question_marks_is_accepted() -> None:
    problems = Problems()
    assert clean_email("a=?b@example.ru", field="senderEmail", problems=problems) == (
        "a=?b@example.ru"
    )
    assert not problems


def test_clean_password_keeps_the_password_as_typed() -> None:
    problems = Problems()
    assert clean_password(" пароль с пробелами ", problems=problems) == " пароль с пробелами "
    assert clean_password(None, problems=problems) is None
    assert clean_password("", problems=problems) is None
    assert not problems
    assert clean_password("x" * 1025, problems=problems) is None
    assert codes(problems) == [("password", InputCode.INVALID)]


# --- Email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalized", "ascii_form"),
    [
        ("ivan@example.ru", "ivan@example.ru", "ivan@example.ru"),
        ("  Ivan.Petrov@Example.RU ", "Ivan.Petrov@example.ru", "Ivan.Petrov@example.ru"),
        ("почта@пример.рф", "почта@пример.рф", "почта@xn--e1afmkfd.xn--p1ai"),
        ("user@ЯНДЕКС.РУ", "user@яндекс.ру", "user@xn--d1acpjx3f.xn--p1ag"),
        ("user@xn--e1afmkfd.xn--p1ai", "user@пример.рф", "user@xn--e1afmkfd.xn--p1ai"),
        ("first.last+tag@sub.mail.ru", "first.last+tag@sub.mail.ru", "first.last+tag@sub.mail.ru"),
        # Company relays: private-network and dotless domains are real mailboxes there.
        ("shop@Corp.Local", "shop@corp.local", "shop@corp.local"),
        ("shop@mail.home.arpa", "shop@mail.home.arpa", "shop@mail.home.arpa"),
        ("shop@intranet", "shop@intranet", "shop@intranet"),
        ("shop@corp.internal", "shop@corp.internal", "shop@corp.internal"),
        ("Иван@ПОЧТА.local", "Иван@почта.local", "Иван@xn--80a1acny.local"),
    ],
)
def test_clean_email_normalizes(value: str, normalized: str, ascii_form: str) -> None:
    problems = Problems()
    assert clean_email(value, field="address", problems=problems) == normalized
    assert not problems
    assert smtp_address(normalized) == ascii_form


def test_email_helpers() -> None:
    assert needs_smtputf8("почта@пример.рф")
    assert not needs_smtputf8("user@пример.рф")
    assert smtp_address("User@Example.RU") == "User@example.ru"
    with pytest.raises(ValueError, match="not an email address"):
        smtp_address("example.ru")


@pytest.mark.parametrize(
    ("value", "ru"),
    [
        ("ivan.example.ru", "В адресе нет знака @"),
        ("Иван <ivan@example.ru>", "Укажите только сам адрес, без имени, кавычек и угловых скобок"),
        (
            '"ivan petrov"@example.ru',
            "Укажите только сам адрес, без имени, кавычек и угловых скобок",
        ),
        ("ivan @example.ru", "В адресе не должно быть пробелов"),
        ("ivan@", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("@example.ru", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("ivan@localhost", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("ivan@example.test", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("ivan@.local", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("ivan@@example.ru", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("ivan..petrov@example.ru", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("ivan@-example.ru", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("ivan@[127.0.0.1]", "Проверьте адрес: он должен выглядеть как ivan@example.ru"),
        ("a" * 65 + "@example.ru", "Часть адреса до знака @ слишком длинная: не более 64 символов"),
        ("a@" + "b" * 250 + ".ru", "Адрес слишком длинный: не более 254 символов"),
    ],
)
def test_clean_email_rejects(value: str, ru: str) -> None:
    problems = Problems()
    assert clean_email(value, field="recipient", problems=problems) is None
    assert codes(problems) == [("recipient", InputCode.INVALID)]
    assert problems.errors[0].message.ru == ru


def test_clean_email_missing() -> None:
    for value in (None, "", "  "):
        problems = Problems()
        assert clean_email(value, field="address", problems=problems) is None
        assert codes(problems) == [("address", InputCode.REQUIRED)]
        assert problems.errors[0].message.ru == "Укажите адрес электронной почты"
        optional = Problems()
        assert clean_email(value, field="senderEmail", problems=optional, required=False) is None
        assert not optional


def test_clean_email_checks_control_characters_first() -> None:
    problems = Problems()
    assert clean_email("Иван <a@b.ru>\r\nBcc: x@y.ru", field="address", problems=problems) is None
    assert codes(problems) == [("address", InputCode.FORBIDDEN_CHARACTERS)]


# --- Host ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("smtp.yandex.ru", "smtp.yandex.ru"),
        (" SMTP.Gmail.COM. ", "smtp.gmail.com"),
        ("ПОЧТА.рф", "xn--80a1acny.xn--p1ai"),
        ("xn--80a1acny.xn--p1ai", "xn--80a1acny.xn--p1ai"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("ｓｍｔｐ．ｙａｎｄｅｘ．ｒｕ", "smtp.yandex.ru"),
        ("localhost", "localhost"),
        ("mail-relay", "mail-relay"),
        ("mail_srv.corp.local", "mail_srv.corp.local"),
        ("127.0.0.1", "127.0.0.1"),
        ("192.168.1.10", "192.168.1.10"),
        ("[10.0.0.1]", "10.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("[2001:db8::25]", "2001:db8::25"),
        ("a" * 63 + ".ru", "a" * 63 + ".ru"),
        (".".join(["a" * 63] * 3 + ["b" * 61]), ".".join(["a" * 63] * 3 + ["b" * 61])),
    ],
)
def test_clean_host_accepts(value: str, host: str) -> None:
    problems = Problems()
    assert clean_host(value, field="smtpHost", problems=problems, required=True) == host
    assert not problems


@pytest.mark.parametrize(
    ("value", "ru"),
    [
        ("smtp yandex.ru", "В имени сервера не должно быть пробелов"),
        ("-bad.com", "Части имени сервера не могут начинаться или заканчиваться дефисом"),
        ("bad-.com", "Части имени сервера не могут начинаться или заканчиваться дефисом"),
        ("a" * 64 + ".ru", "Каждая часть имени сервера между точками — не более 63 символов"),
        ("я" * 60 + ".рф", "Каждая часть имени сервера между точками — не более 63 символов"),
        (
            ".".join(["a" * 63] * 3 + ["b" * 62]),
            "Имя сервера слишком длинное: не более 253 символов",
        ),
        ("a." * 200 + "ru", "Имя сервера слишком длинное: не более 253 символов"),
        (
            "smtp..yandex.ru",
            "Имя сервера не может начинаться с точки или содержать две точки подряд",
        ),
        (".yandex.ru", "Имя сервера не может начинаться с точки или содержать две точки подряд"),
        ("smtp+relay.local", "Имя сервера может содержать только буквы, цифры, дефисы и точки"),
        ("smtp!.ru", "Имя сервера может содержать только буквы, цифры, дефисы и точки"),
        ("xn--zz.ru", "Неверная запись международного имени (часть, начинающаяся с «xn--»)"),
        (
            "smtp.yandex.ru:465",
            "Порт указывается в отдельном поле: здесь оставьте только имя сервера",
        ),
        ("[::1]:25", "Порт указывается в отдельном поле: здесь оставьте только имя сервера"),
        (
            "smtps://smtp.yandex.ru",
            "Укажите только имя сервера, например smtp.yandex.ru, без «smtp://» и пути",
        ),
        ("ivan@yandex.ru", "Здесь нужно имя сервера, например smtp.yandex.ru, а не адрес почты"),
        (
            "127.1",
            "Неверный IP-адрес: нужны четыре числа от 0 до 255 через точку, например 192.168.1.10",
        ),
        (
            "256.0.0.1",
            "Неверный IP-адрес: нужны четыре числа от 0 до 255 через точку, например 192.168.1.10",
        ),
        (
            "0x7f000001",
            "Неверный IP-адрес: нужны четыре числа от 0 до 255 через точку, например 192.168.1.10",
        ),
        (
            "127.000.0.1",
            "Неверный IP-адрес: нужны четыре числа от 0 до 255 через точку, например 192.168.1.10",
        ),
        ("mail.123", "Последняя часть имени сервера не может состоять только из цифр"),
        ("1::2::3", "Неверный IPv6-адрес"),
        ("fe80::1%eth0", "Неверный IPv6-адрес"),
        ("[smtp.yandex.ru]", "В квадратных скобках можно указать только IP-адрес"),
        ("[::1", "В квадратных скобках можно указать только IP-адрес"),
    ],
)
def test_clean_host_rejects(value: str, ru: str) -> None:
    problems = Problems()
    assert clean_host(value, field="smtpHost", problems=problems, required=True) is None
    assert codes(problems) == [("smtpHost", InputCode.INVALID)]
    assert problems.errors[0].message.ru == ru


def test_clean_host_missing() -> None:
    problems = Problems()
    assert clean_host("  ", field="smtpHost", problems=problems, required=True) is None
    assert codes(problems) == [("smtpHost", InputCode.REQUIRED)]
    assert problems.errors[0].message.ru == "Укажите адрес SMTP-сервера"
    assert clean_host(None, field="smtpHost", problems=Problems(), required=False) is None


# --- Port ------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [1, 25, 465, 587, 2525, 65535])
def test_clean_port_accepts(port: int) -> None:
    problems = Problems()
    assert clean_port(port, field="port", problems=problems, required=True) == port
    assert not problems


@pytest.mark.parametrize("port", [0, -1, 65536, 10**9, True])
def test_clean_port_rejects(port: int) -> None:
    problems = Problems()
    assert clean_port(port, field="port", problems=problems, required=True) is None
    assert codes(problems) == [("port", InputCode.INVALID)]
    assert problems.errors[0].message.ru == "Порт — целое число от 1 до 65535"


def test_clean_port_missing() -> None:
    problems = Problems()
    assert clean_port(None, field="port", problems=problems, required=True) is None
    assert codes(problems) == [("port", InputCode.REQUIRED)]
    assert clean_port(None, field="port", problems=Problems(), required=False) is None


# --- INN and KPP -----------------------------------------------------------------------------


@pytest.mark.parametrize("inn", ["7707083893", "7736207543", "500100732259", " 7707083893 "])
def test_clean_inn_accepts_real_inns(inn: str) -> None:
    problems = Problems()
    assert clean_inn(inn, problems=problems) == inn.strip()
    assert not problems
    assert inn_is_valid(inn.strip())


@pytest.mark.parametrize(
    ("value", "ru"),
    [
        ("7707083894", "Неверная контрольная сумма ИНН: проверьте, нет ли опечатки"),
        ("7736207544", "Неверная контрольная сумма ИНН: проверьте, нет ли опечатки"),
        ("500100732258", "Неверная контрольная сумма ИНН: проверьте, нет ли опечатки"),
        ("500100732269", "Неверная контрольная сумма ИНН: проверьте, нет ли опечатки"),
        ("770708389", "ИНН должен состоять из 10 или 12 цифр (сейчас цифр: 9)"),
        ("77070838933", "ИНН должен состоять из 10 или 12 цифр (сейчас цифр: 11)"),
        ("7707083893000", "ИНН должен состоять из 10 или 12 цифр (сейчас цифр: 13)"),
        ("77070838AB", "ИНН состоит только из цифр"),
        ("7707 083 893", "ИНН состоит только из цифр"),
        ("-707083893", "ИНН состоит только из цифр"),
        ("７７０７０８３８９３", "ИНН состоит только из цифр"),  # full-width digits
    ],
)
def test_clean_inn_rejects(value: str, ru: str) -> None:
    problems = Problems()
    assert clean_inn(value, problems=problems) is None
    assert codes(problems) == [("inn", InputCode.INVALID)]
    assert problems.errors[0].message.ru == ru


def test_clean_inn_is_required() -> None:
    for value in (None, "", " "):
        problems = Problems()
        assert clean_inn(value, field="firmInn", problems=problems) is None
        assert codes(problems) == [("firmInn", InputCode.REQUIRED)]
        assert problems.errors[0].message.ru == "Укажите ИНН"


def test_inn_checksum() -> None:
    assert inn_checksum("770708389") == "3"
    assert inn_checksum("5001007322") == "59"
    for bad in ("77070838", "77070838933", "77070838a"):
        with pytest.raises(ValueError, match="INN"):
            inn_checksum(bad)


@pytest.mark.parametrize(
    ("value", "kpp"),
    [("773601001", "773601001"), (" 7736AB001 ", "7736AB001"), ("7736ab001", "7736AB001")],
)
def test_clean_kpp_accepts(value: str, kpp: str) -> None:
    problems = Problems()
    assert clean_kpp(value, problems=problems) == kpp
    assert not problems


@pytest.mark.parametrize(
    ("value", "ru"),
    [
        ("77360100", "КПП должен состоять из 9 символов (сейчас символов: 8)"),
        ("7736010010", "КПП должен состоять из 9 символов (сейчас символов: 10)"),
        ("A73601001", "КПП состоит из цифр, только 5-й и 6-й знаки могут быть латинскими буквами"),
        ("77360100Z", "КПП состоит из цифр, только 5-й и 6-й знаки могут быть латинскими буквами"),
        ("7736АВ001", "КПП состоит из цифр, только 5-й и 6-й знаки могут быть латинскими буквами"),
    ],
)
def test_clean_kpp_rejects(value: str, ru: str) -> None:
    problems = Problems()
    assert clean_kpp(value, problems=problems) is None
    assert codes(problems) == [("kpp", InputCode.INVALID)]
    assert problems.errors[0].message.ru == ru


def test_clean_kpp_is_optional_unless_required() -> None:
    problems = Problems()
    assert clean_kpp(None, problems=problems) is None
    assert clean_kpp("  ", problems=problems) is None
    assert not problems
    assert clean_kpp(None, problems=problems, required=True) is None
    assert codes(problems) == [("kpp", InputCode.REQUIRED)]


# --- Messages --------------------------------------------------------------------------------


def test_messages_are_bilingual_and_do_not_name_the_field() -> None:
    problems = Problems()
    for name, good in GOOD_VALUES.items():
        for value in (None, "", "\n", "x" * 600, "-a-", "a b", good + "@", "ab12"):
            CLEANERS[name](value, problems)
    clean_port(0, field="smtpPort", problems=problems, required=True)
    clean_port(None, field="smtpPort", problems=problems, required=True)
    assert len(problems) > 30
    for error in problems.errors:
        assert error.field is not None
        ru, en = error.message.ru, error.message.en
        assert any("а" <= char <= "я" for char in ru.lower()), ru
        assert en.isascii() or "“" in en, en
        for text in (ru, en):
            assert error.field not in text, text
            assert text[0].isupper() and not text.endswith("."), text


# --- Properties ------------------------------------------------------------------------------

FORBIDDEN_CHARS = st.one_of(
    st.characters(min_codepoint=0x00, max_codepoint=0x1F),
    st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
    st.sampled_from(["\u2028", "\u2029"]),
    st.characters(categories=["Cs"]),
)
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40)


@FAST
@given(
    name=st.sampled_from(sorted(CLEANERS)), before=ANY_TEXT, char=FORBIDDEN_CHARS, after=ANY_TEXT
)
def test_property_forbidden_characters_are_refused_by_every_cleaner(
    name: str, before: str, char: str, after: str
) -> None:
    result, errors = run(name, before + char + after)
    assert result is None
    assert [error.code for error in errors] == [InputCode.FORBIDDEN_CHARACTERS]


@FAST
@given(ANY_TEXT)
def test_property_forbidden_set_is_exactly_controls_separators_surrogates_and_bidi(
    value: str,
) -> None:
    bidi = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)}
    expected = any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in bidi for c in value)
    assert has_forbidden_characters(value) is expected


def _residue(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11


W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
DIGITS = "0123456789"


def _inn10(body: str) -> str:
    return body + str(_residue(body, W10) % 10)


def _inn12(body: str) -> str:
    first = str(_residue(body, W11) % 10)
    return body + first + str(_residue(body + first, W12) % 10)


def _replace(text: str, position: int, digit: str) -> str:
    return text[:position] + digit + text[position + 1 :]


@FAST
@given(body=st.text(DIGITS, min_size=9, max_size=9), last=st.sampled_from(DIGITS))
def test_property_inn10_check_digit(body: str, last: str) -> None:
    inn = _inn10(body)
    assert inn_is_valid(inn)
    assert clean_inn(inn, problems=Problems()) == inn
    # The check digit is the only one that makes the number valid.
    assert inn_is_valid(body + last) is (body + last == inn)


@FAST
@given(body=st.text(DIGITS, min_size=10, max_size=10), tail=st.text(DIGITS, min_size=2, max_size=2))
def test_property_inn12_check_digits(body: str, tail: str) -> None:
    inn = _inn12(body)
    assert inn_is_valid(inn)
    assert clean_inn(inn, problems=Problems()) == inn
    assert inn_is_valid(body + tail) is (body + tail == inn)


@FAST
@given(body=st.text(DIGITS, min_size=9, max_size=9), data=st.data())
def test_property_inn10_single_digit_change(body: str, data: st.DataObject) -> None:
    """Changing one digit is refused, except when the weighted sum mod 11 moves between 0 and 10.

    Every weight is non-zero mod 11, so a changed digit always changes the sum
    mod 11; only 0 and 10 give the same check digit (0).
    """
    inn = _inn10(body)
    position = data.draw(st.integers(0, 9))
    digit = data.draw(st.sampled_from(DIGITS).filter(lambda d: d != inn[position]))
    changed = _replace(inn, position, digit)
    residues = {_residue(inn[:9], W10), _residue(changed[:9], W10)}
    assert inn_is_valid(changed) is (position < 9 and residues == {0, 10})


@FAST
@given(body=st.text(DIGITS, min_size=10, max_size=10), data=st.data())
def test_property_inn12_single_digit_change(body: str, data: st.DataObject) -> None:
    """A changed check digit is always refused; a changed body digit only gets through when
    the first checksum's sum mod 11 moves between 0 and 10."""
    inn = _inn12(body)
    position = data.draw(st.integers(0, 11))
    digit = data.draw(st.sampled_from(DIGITS).filter(lambda d: d != inn[position]))
    changed = _replace(inn, position, digit)
    if position >= 10:
        assert not inn_is_valid(changed)
    elif inn_is_valid(changed):
        assert {_residue(inn[:10], W11), _residue(changed[:10], W11)} == {0, 10}


def test_inn_single_digit_change_can_go_undetected() -> None:
    """The exception in the properties above is real: find one such pair."""
    for number in range(10**8, 10**8 + 10**5):
        inn = _inn10(str(number).zfill(9))
        if _residue(inn[:9], W10) in (0, 10):
            for position in range(9):
                for digit in DIGITS:
                    changed = _replace(inn, position, digit)
                    if changed != inn and inn_is_valid(changed):
                        assert inn[9] == changed[9] == "0"
                        return
    pytest.fail("no undetected single-digit change found")


@FAST
@given(st.one_of(ANY_TEXT, st.text(DIGITS, max_size=14)))
def test_property_inn_is_ten_or_twelve_ascii_digits(value: str) -> None:
    if inn_is_valid(value):
        assert value.isascii() and value.isdigit() and len(value) in (10, 12)


LABEL_CHARS = st.sampled_from("abcxyzABCXYZ0123456789-абвяАБВЯüßÜ")
HOST_LIKE = st.lists(st.text(LABEL_CHARS, min_size=1, max_size=70), min_size=1, max_size=5).map(
    ".".join
)
HOSTS = st.one_of(
    HOST_LIKE,
    HOST_LIKE.map(lambda host: host + "."),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
    ANY_TEXT,
)


@FAST
@given(HOSTS)
def test_property_clean_host_output_is_plain_ascii(value: str) -> None:
    problems = Problems()
    host = clean_host(value, field="smtpHost", problems=problems, required=True)
    if host is None:
        assert len(problems) == 1
        return
    assert not problems
    assert host.isascii()
    assert host == host.lower()
    assert 0 < len(host) <= 253
    assert not any(char.isspace() for char in host)
    assert "[" not in host and "]" not in host
    assert clean_host(host, field="smtpHost", problems=problems, required=True) == host
    assert not problems


@FAST
@given(
    address=st.one_of(st.emails(), st.sampled_from(list(GOOD_VALUES.values()))),
    position=st.integers(0, 300),
    newline=st.sampled_from(["\r", "\n", "\r\n"]),
)
def test_property_clean_email_never_accepts_cr_lf(
    address: str, position: int, newline: str
) -> None:
    position = min(position, len(address))
    problems = Problems()
    assert (
        clean_email(address[:position] + newline + address[position:], field="a", problems=problems)
        is None
    )
    assert [error.code for error in problems.errors] == [InputCode.FORBIDDEN_CHARACTERS]


@FAST
@given(st.one_of(st.emails(), ANY_TEXT))
def test_property_clean_email_output_is_stable(value: str) -> None:
    problems = Problems()
    address = clean_email(value, field="address", problems=problems)
    if address is None:
        assert len(problems) == 1
        return
    assert not has_forbidden_characters(address)
    assert len(address) <= 254
    assert clean_email(address, field="address", problems=problems) == address
    assert smtp_address(address).rpartition("@")[2].isascii()
    assert not problems


@FAST
@given(st.integers(min_value=-(2**63), max_value=2**63))
def test_property_clean_port_accepts_exactly_1_to_65535(port: int) -> None:
    problems = Problems()
    result = clean_port(port, field="port", problems=problems, required=True)
    if 1 <= port <= 65535:
        assert result == port
        assert not problems
    else:
        assert result is None
        assert codes(problems) == [("port", InputCode.INVALID)]


@FAST
@given(st.integers(min_value=-5, max_value=65540))
def test_property_clean_port_edges(port: int) -> None:
    accepted = clean_port(port, field="port", problems=Problems(), required=False) is not None
    assert accepted is (1 <= port <= 65535)


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069", "\ufeff"])
def test_bidi_overrides_are_refused_in_names_but_not_in_passwords(char: str) -> None:
    problems = Problems()
    assert (
        clean_text(
            f"evil{char}name", field="senderName", problems=problems, required=True, max_length=200
        )
        is None
    )
    assert [e.code for e in problems.errors] == ["FORBIDDEN_CHARACTERS"]
    problems = Problems()
    assert clean_password(f"p{char}w", problems=problems) == f"p{char}w"
    assert not problems


def test_zero_width_joiners_stay_allowed_in_names() -> None:
    problems = Problems()
    family = "👨\u200d👩\u200d👧"
    assert (
        clean_text(
            f"Магазин {family}",
            field="senderName",
            problems=problems,
            required=True,
            max_length=200,
        )
        == f"Магазин {family}"
    )
