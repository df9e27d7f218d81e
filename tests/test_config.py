"""Start-up configuration: values that would quietly undo a protection are refused.

Each refusal is one ``ConfigError`` line naming the variable (the CLI prints it and exits
with 2, see ``tests/test_cli.py``).
"""

from __future__ import annotations

import pytest

from config import ConfigError, load_settings

REFUSED = [
    # Allowing everything switches the link-local/metadata/multicast refusals off.
    ("MAILTAB_SMTP_ALLOW_NETWORKS", "0.0.0.0/0"),
    ("MAILTAB_SMTP_ALLOW_NETWORKS", "::/0"),
    ("MAILTAB_SMTP_ALLOW_NETWORKS", "169.254.169.254,10.0.0.0/8"),  # 10/8 is allowed already
    ("MAILTAB_SMTP_ALLOW_NETWORKS", "169.0.0.0/8"),  # wider than the refusal it reopens
    ("MAILTAB_CORS_ORIGINS", "*"),
    ("MAILTAB_CORS_ORIGINS", "https://erp.example.ru,*"),
    ("MAILTAB_CORS_ORIGINS", "https://erp.example.ru/path"),
    ("MAILTAB_PASSWORD_HELP_URL", "javascript:alert(1)"),
    ("MAILTAB_PASSWORD_HELP_URL", "data:text/html,<b>x</b>"),
    ("MAILTAB_PASSWORD_HELP_URL", "https://"),
    ("MAILTAB_PASSWORD_HELP_URL", "//evil.example/x"),
    ("MAILTAB_PASSWORD_HELP_URL", "https://docs.example/a b"),
    ("MAILTAB_TRADESOFT_SMTP_HOST", "a b"),
    ("MAILTAB_TRADESOFT_SMTP_HOST", "smtp.example.ru:465"),
    ("MAILTAB_TRADESOFT_SMTP_HOST", "https://smtp.example.ru"),
    ("MAILTAB_TRADESOFT_SMTP_HOST", "smtp..example.ru"),
    ("MAILTAB_TEST_EMAIL_RATE_LIMIT", "0/minute"),
    ("MAILTAB_TEST_EMAIL_RATE_LIMIT", "10/minute;0/day"),
    ("MAILTAB_HEADER_TIMEOUT", "0"),
]

ACCEPTED = [
    ("MAILTAB_SMTP_ALLOW_NETWORKS", "169.254.169.254", "smtp_allow_networks"),
    ("MAILTAB_SMTP_ALLOW_NETWORKS", "169.254.10.0/24, fe80::/64", "smtp_allow_networks"),
    ("MAILTAB_SMTP_ALLOW_NETWORKS", "::ffff:169.254.10.1", "smtp_allow_networks"),
    ("MAILTAB_CORS_ORIGINS", "https://erp.example.ru,http://127.0.0.1:3000", "cors_origins"),
    ("MAILTAB_PASSWORD_HELP_URL", "https://docs.example.ru/mail#app", "password_help_url"),
    ("MAILTAB_TRADESOFT_SMTP_HOST", "SMTP.Tradesoft.ru", "tradesoft_smtp_host"),
    ("MAILTAB_TRADESOFT_SMTP_HOST", "почта.рф", "tradesoft_smtp_host"),
    ("MAILTAB_TEST_EMAIL_RATE_LIMIT", "5/minute;50/day", "test_email_rate_limit"),
]


@pytest.mark.parametrize(("variable", "value"), REFUSED)
def test_a_value_that_undoes_a_protection_is_refused_naming_the_variable(
    clean_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith(f"{variable}: "), message
    assert "\n" not in message


@pytest.mark.parametrize(("variable", "value", "name"), ACCEPTED)
def test_reasonable_values_are_accepted(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, name: str
) -> None:
    clean_env.setenv(variable, value)
    assert getattr(load_settings(), name)


def test_the_tradesoft_host_is_stored_as_dns_sees_it(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MAILTAB_TRADESOFT_SMTP_HOST", " SMTP.Tradesoft.ru. ")
    assert load_settings().tradesoft_smtp_host == "smtp.tradesoft.ru"
    clean_env.setenv("MAILTAB_TRADESOFT_SMTP_HOST", "почта.рф")
    assert load_settings().tradesoft_smtp_host == "xn--80a1acny.xn--p1ai"
