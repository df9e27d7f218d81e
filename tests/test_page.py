"""The Mail tab page and GraphiQL in a real browser, as an administrator uses them.

Debian's Chromium driven by Playwright, against a real ``mailtab serve`` (a fresh data folder,
the token it prints on its first start) and a local aiosmtpd speaking STARTTLS with AUTH,
whose CA the service trusts. Every request the browser makes to a host other than the
service is blocked and counted: the count must stay 0. Firms and outlets (other tabs) are
made through the API. Each state is checked with axe-core (no serious or critical
violation) and saved as a screenshot in ``test-artifacts/page/``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Request, Route, async_playwright, expect

from tests.smtpd import Certificates, RunningServer, ServerMode, smtp_server

ROOT = Path(__file__).resolve().parent.parent
MAILTAB = str(Path(sys.executable).with_name("mailtab"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "page"
ACCOUNT = "shop@example.ru"
APP_PASSWORD = "app-password-1"
RECIPIENT = "buyer@example.org"

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("MAILTAB_TEST_DATABASE", "sqlite") != "sqlite",
        reason="the page runs against its own embedded mailtab serve; covered by the SQLite pass",
    ),
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's Chromium: apt-get install -y chromium",
    ),
]


# --- the service, the mail server, the browser ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Service:
    base: str
    token: str


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Service]:
    """``mailtab serve`` on a fresh data folder; its output goes to a file (never a full pipe)."""
    folder = tmp_path_factory.mktemp("page-service")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env |= {
        "MAILTAB_DATA_DIR": str(folder / "data"),
        "MAILTAB_SMTP_CA_FILE": str(certificates.ca_file),
        "MAILTAB_SMTP_TIMEOUT": "5",
        "MAILTAB_TEST_EMAIL_RATE_LIMIT": "1000/minute",
    }
    port = _free_port()
    log = folder / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [MAILTAB, "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 30  # a guard against a hang, not a measurement
        while "Application startup complete" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        token = next(line for line in log.read_text().splitlines() if line.startswith("mt_"))
        yield Service(base=f"http://127.0.0.1:{port}", token=token)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
async def smtp(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={ACCOUNT: APP_PASSWORD}
    ) as server:
        yield server


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


class Api:
    """The service's GraphQL API, for setting up other tabs and checking what was saved."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, lang: str = "ru"
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.service.base) as client:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={
                    "Authorization": f"Bearer {self.service.token}",
                    "Accept-Language": lang,
                },
            )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def make_tab(self, *, available: bool) -> None:
        """Fill in (or empty) the Our firms and Outlets and warehouses tabs."""
        state = await self("{ firms { id outlets { id } } }")
        if not available:
            for firm in state["firms"]:
                for outlet in firm["outlets"]:
                    await self(
                        "mutation($id: ID!) { deleteOutlet(id: $id) { errors { code } } }",
                        {"id": outlet["id"]},
                    )
                await self(
                    "mutation($id: ID!) { deleteFirm(id: $id) { errors { code } } }",
                    {"id": firm["id"]},
                )
            return
        if any(firm["outlets"] for firm in state["firms"]):
            return
        firm = await self(
            'mutation { createFirm(input: {name: "ООО Ромашка", inn: "7707083893"}) { firm { id } errors { code } } }'
        )
        firm_id = firm["createFirm"]["firm"]["id"]
        await self(
            'mutation($firm: ID!) { createOutlet(input: {firmId: $firm, name: "Склад", kind: WAREHOUSE}) { outlet { id } errors { code } } }',
            {"firm": firm_id},
        )

    async def saved(self) -> dict[str, Any]:
        return await self(
            "{ emailAccountCount mailTab { settings { provider smtpHost port security address hasPassword senderName senderEmail } } }"
        )


@pytest.fixture(scope="module")
def api(service: Service) -> Api:
    return Api(service)


@dataclass
class Visit:
    """One browser context: a page, what it tried to fetch elsewhere, its CSP violations."""

    page: Page
    base: str
    foreign: list[str] = field(default_factory=list)
    api_requests: list[Request] = field(default_factory=list)

    async def csp_violations(self) -> list[str]:
        violations: list[str] = await self.page.evaluate("window.__cspViolations || []")
        return violations

    async def sign_in(self, token: str, *, button: str = "Войти") -> None:
        await self.page.goto(f"{self.base}/")
        await self.page.locator("#token").fill(token)
        await self.page.get_by_role("button", name=button).click()
        await expect(self.page.locator("#sign-out")).to_be_visible()


# Recorded before any of the page's own scripts run (init scripts are not subject to its CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""

Opener = Callable[..., Awaitable[Visit]]


@pytest.fixture
async def visit(browser: Browser, service: Service) -> AsyncIterator[Opener]:
    """Opens browser contexts (fresh storage each); none may reach beyond the service."""
    opened: list[tuple[Any, Visit]] = []

    async def open_context(*, locale: str = "ru-RU", width: int = 1024, height: int = 900) -> Visit:
        context = await browser.new_context(
            locale=locale, viewport={"width": width, "height": height}
        )
        page = await context.new_page()
        current = Visit(page=page, base=service.base)

        async def guard(route: Route, request: Request) -> None:
            if request.url == service.base or request.url.startswith(f"{service.base}/"):
                if request.url.startswith(f"{service.base}/graphql") and request.method == "POST":
                    current.api_requests.append(request)
                await route.continue_()
            else:
                current.foreign.append(request.url)
                await route.abort()

        await context.route("**/*", guard)
        await context.add_init_script(CSP_LISTENER)
        opened.append((context, current))
        return current

    yield open_context
    for context, current in opened:
        violations = await current.csp_violations() if not current.page.is_closed() else []
        await context.close()
        assert current.foreign == [], "requests to other hosts"
        assert violations == [], "Content-Security-Policy violations"


# --- helpers ---------------------------------------------------------------------------------


def _axe() -> Any:
    from axe_playwright_python.async_playwright import Axe

    return Axe()


async def check_state(page: Page, name: str) -> None:
    """A screenshot of the state, and no serious or critical axe-core violation in it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    results = await _axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"axe-core in state {name}"


async def described_text(page: Page, selector: str) -> str:
    """The text of the elements a control's aria-describedby names."""
    text: str = await page.locator(selector).evaluate(
        """(control) => (control.getAttribute("aria-describedby") || "").split(/\\s+/)
            .map((id) => document.getElementById(id)).filter(Boolean)
            .map((element) => element.textContent.trim()).join(" ")"""
    )
    return text


async def no_horizontal_scroll(page: Page) -> bool:
    wide: bool = await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    return wide


async def fill_local_server(page: Page, smtp: RunningServer, *, password: str) -> None:
    """The form for the local aiosmtpd: Другой, 127.0.0.1, its port, SSL (STARTTLS there)."""
    await page.get_by_label("Почтовый сервис").select_option(label="Другой")
    await page.get_by_label("SMTP-сервер").fill(smtp.host)
    await page.get_by_label("Порт").fill(str(smtp.port))
    await page.get_by_label("Использовать SSL").check()
    await page.get_by_label("Адрес", exact=True).fill(ACCOUNT)
    await page.get_by_label("Пароль").fill(password)
    await page.get_by_label("Имя отправителя").fill("Автозапчасти")
    await page.get_by_label("Email получателя").fill(RECIPIENT)


# --- the states ------------------------------------------------------------------------------


async def test_unavailable_tab_is_disabled_and_names_the_missing_tabs(
    visit: Opener, service: Service, api: Api
) -> None:
    await api.make_tab(available=False)
    current = await visit()
    page = current.page
    await page.goto(f"{service.base}/")
    await expect(page.locator("#mail-fields")).to_have_js_property("disabled", True)
    await check_state(page, "01-signed-out")
    await current.sign_in(service.token)
    await expect(page.locator("#mail-fields")).to_have_js_property("disabled", True)
    notice = page.locator("#notice-text")
    await expect(notice).to_contain_text("Наши фирмы")
    await expect(notice).to_contain_text("Торговые точки и склады")
    await expect(page.get_by_role("button", name="Отправить")).to_be_disabled()
    await expect(page.get_by_role("button", name="Сохранить")).to_be_disabled()
    await check_state(page, "02-unavailable")

    await api.make_tab(available=True)
    await page.get_by_role("button", name="Проверить снова").click()
    await expect(page.locator("#mail-fields")).to_have_js_property("disabled", False)
    await expect(page.locator("#notice")).to_be_hidden()


async def test_labels_are_the_seeds_and_yandex_fills_its_preset(
    visit: Opener, service: Service, api: Api
) -> None:
    await api.make_tab(available=True)
    current = await visit()
    page = current.page
    await current.sign_in(service.token)
    labels = {
        "Почтовый сервис": "provider",
        "SMTP-сервер": "smtpHost",
        "Использовать SSL": "useSsl",
        "Порт": "port",
        "Адрес": "address",
        "Пароль": "password",
        "Имя отправителя": "senderName",
        "Email отправителя": "senderEmail",
        "Email получателя": "recipient",
        "Токен доступа": "token",
    }
    for text, control in labels.items():
        label = page.locator(f'label[for="{control}"]')
        await expect(label).to_have_text(text)
        await expect(page.get_by_label(text, exact=True)).to_have_id(control)
    await expect(page.get_by_role("button", name="Отправить")).to_be_visible()
    await expect(page.get_by_role("button", name="Сохранить")).to_be_visible()
    tab = await api("{ mailTab { passwordHelpUrl } mailProviders { code title } }")
    options = await page.locator("#provider option").all_text_contents()
    assert options[1:] == [p["title"] for p in tab["mailProviders"]]
    assert len(options[1:]) == 7 and "Другой" in options

    await page.get_by_label("Почтовый сервис").select_option(label="Yandex")
    await expect(page.get_by_label("SMTP-сервер")).to_have_value("smtp.yandex.ru")
    await expect(page.get_by_label("Порт")).to_have_value("465")
    await expect(page.get_by_label("Использовать SSL")).to_be_checked()
    guide = page.get_by_role("link", name="Как создать пароль приложения")
    await expect(guide).to_have_attribute("href", tab["mailTab"]["passwordHelpUrl"])
    assert "Как создать пароль приложения" in await described_text(page, "#password")
    await expect(page.locator("#provider-guide")).to_be_visible()
    await check_state(page, "03-yandex-chosen")

    # An address at a provider's domain offers that provider (the API's domain lists).
    await page.get_by_label("Почтовый сервис").select_option(label="Другой")
    await page.get_by_label("Адрес", exact=True).fill("shop@mail.ru")
    await page.get_by_label("Адрес", exact=True).press("Tab")
    offer = page.locator("#detect-apply")
    await expect(offer).to_contain_text("Mail.ru")
    await offer.click()
    await expect(page.get_by_label("Почтовый сервис")).to_have_value("MAIL_RU")
    await expect(page.get_by_label("SMTP-сервер")).to_have_value("smtp.mail.ru")


async def test_other_with_an_empty_server_is_refused_at_the_server_field(
    visit: Opener, service: Service, api: Api
) -> None:
    await api.make_tab(available=True)
    before = await api.saved()
    current = await visit()
    page = current.page
    await current.sign_in(service.token)
    await page.get_by_label("Почтовый сервис").select_option(label="Другой")
    await page.get_by_label("SMTP-сервер").fill("")
    await page.get_by_label("Порт").fill("2525")
    await page.get_by_label("Адрес", exact=True).fill(ACCOUNT)
    await page.get_by_label("Пароль").fill(APP_PASSWORD)
    await page.get_by_role("button", name="Сохранить").click()
    host = page.get_by_label("SMTP-сервер")
    await expect(host).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#smtpHost-error")).not_to_be_empty()
    message = await page.locator("#smtpHost-error").text_content() or "?"
    assert message in await described_text(page, "#smtpHost")
    await expect(host).to_be_focused()
    await expect(page.get_by_role("status")).to_contain_text("Не сохранено")
    assert await api.saved() == before
    await check_state(page, "04-other-without-server")

    # Typing in the field takes its mark away.
    await host.fill("smtp.example.test")
    await expect(host).not_to_have_attribute("aria-invalid", "true")


async def test_save_then_send_delivers_one_letter(
    visit: Opener, service: Service, api: Api, smtp: RunningServer
) -> None:
    await api.make_tab(available=True)
    current = await visit()
    page = current.page
    await current.sign_in(service.token)
    await fill_local_server(page, smtp, password=APP_PASSWORD)
    await page.get_by_role("button", name="Сохранить").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Настройки сохранены")
    saved = (await api.saved())["mailTab"]["settings"]
    assert saved["smtpHost"] == smtp.host and saved["port"] == smtp.port
    assert saved["security"] == "STARTTLS" and saved["hasPassword"] is True
    assert saved["senderName"] == "Автозапчасти"
    password = page.get_by_label("Пароль")
    await expect(password).to_have_value("")
    await expect(page.locator("#password-saved")).to_be_visible()
    await check_state(page, "05-saved")

    # Send with the password field empty: the stored password is used. The request is held
    # at the browser until the button has been seen busy and pressed again.
    letters = len(smtp.recorder.messages)
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold(route: Route, request: Request) -> None:
        if request.method == "POST" and "sendTestEmail" in (request.post_data or ""):
            body = json.loads(request.post_data or "{}")
            assert "password" not in body["variables"]["input"]["settings"]
            held.set()
            await release.wait()
        await route.fallback()

    await page.route("**/graphql", hold)
    send = page.get_by_role("button", name="Отправить")
    await send.click()
    await held.wait()
    busy = page.locator("#send")
    await expect(busy).to_have_attribute("aria-disabled", "true")
    await expect(busy).to_have_attribute("data-busy", "true")
    await expect(busy).to_have_text("Отправка…")
    await expect(page.locator("#save")).to_have_attribute("aria-disabled", "true")
    await busy.click(force=True)  # a second press while the first is in flight
    await busy.press("Enter")
    await check_state(page, "06-sending")
    release.set()
    await expect(status).to_contain_text("Тестовое письмо отправлено")
    await expect(busy).to_have_text("Отправить")
    await expect(busy).not_to_have_attribute("aria-disabled", "true")
    assert len(smtp.recorder.messages) == letters + 1
    letter = email.message_from_bytes(smtp.recorder.messages[-1], policy=email.policy.default)
    # The Message-ID's paragraph; the steps transcript below it has codes of its own.
    await expect(status.locator("p code")).to_have_text(str(letter["Message-ID"]))
    # The SMTP steps, collapsed under the outcome, end with the letter's DATA.
    await expect(status.locator("details li").last).to_contain_text("DATA")
    sends = [r for r in current.api_requests if "sendTestEmail" in (r.post_data or "")]
    assert len(sends) == 1
    await check_state(page, "07-delivered")

    # Reloaded, the saved settings are in the form; the password is not.
    await page.reload()
    await expect(page.get_by_label("SMTP-сервер")).to_have_value(smtp.host)
    await expect(page.get_by_label("Почтовый сервис")).to_have_value("OTHER")
    await expect(page.get_by_label("Порт")).to_have_value(str(smtp.port))
    await expect(page.get_by_label("Адрес", exact=True)).to_have_value(ACCOUNT)
    await expect(password).to_have_value("")
    assert APP_PASSWORD not in await page.content()
    assert "Пароль сохранён" in await described_text(page, "#password")
    # Another account has no stored password: the note goes with the address.
    await page.get_by_label("Адрес", exact=True).fill("other@example.ru")
    await expect(page.locator("#password-saved")).to_be_hidden()
    await page.get_by_label("Адрес", exact=True).fill(ACCOUNT)
    await expect(page.locator("#password-saved")).to_be_visible()


async def test_wrong_password_is_hinted_at_the_password_and_nothing_is_delivered(
    visit: Opener, service: Service, api: Api, smtp: RunningServer
) -> None:
    await api.make_tab(available=True)
    current = await visit()
    page = current.page
    await current.sign_in(service.token)
    await fill_local_server(page, smtp, password="wrong-password")
    letters = len(smtp.recorder.messages)
    await page.get_by_role("button", name="Отправить").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("не доставлено")
    password = page.get_by_label("Пароль")
    await expect(password).to_have_attribute("aria-invalid", "true")
    assert len(smtp.recorder.messages) == letters
    expected = await api(
        "mutation($input: SendTestEmailInput!) { sendTestEmail(input: $input) { failure { code field message hint } } }",
        {
            "input": {
                "recipient": RECIPIENT,
                "settings": {
                    "provider": "OTHER",
                    "smtpHost": smtp.host,
                    "port": smtp.port,
                    "useSsl": True,
                    "address": ACCOUNT,
                    "password": "wrong-password",
                },
            }
        },
    )
    failure = expected["sendTestEmail"]["failure"]
    assert (failure["code"], failure["field"]) == ("AUTH_FAILED", "password")
    described = await described_text(page, "#password")
    assert failure["hint"] in described and failure["message"] in described
    await expect(status).to_contain_text(failure["hint"])
    await check_state(page, "08-wrong-password")


async def test_english_labels_and_messages(visit: Opener, service: Service, api: Api) -> None:
    await api.make_tab(available=True)
    current = await visit(locale="en-US")
    page = current.page
    await current.sign_in(service.token, button="Sign in")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    for text, control in {
        "Mail service": "provider",
        "SMTP server": "smtpHost",
        "Use SSL": "useSsl",
        "Port": "port",
        "Address": "address",
        "Password": "password",
        "Sender name": "senderName",
        "Sender email": "senderEmail",
        "Recipient email": "recipient",
        "Access token": "token",
    }.items():
        await expect(page.locator(f'label[for="{control}"]')).to_have_text(text)
    await expect(page.get_by_role("button", name="Send")).to_be_visible()
    await expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    await page.get_by_label("Mail service").select_option(label="Other")
    await page.get_by_label("Address", exact=True).fill("not an address")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_label("Address", exact=True)).to_have_attribute("aria-invalid", "true")
    refused = await api(
        'mutation { saveMailSettings(input: {provider: OTHER, address: "not an address"}) { errors { field message } } }',
        lang="en",
    )
    messages = {e["field"]: e["message"] for e in refused["saveMailSettings"]["errors"]}
    await expect(page.locator("#address-error")).to_have_text(messages["address"])
    assert {r.headers.get("accept-language") for r in current.api_requests} == {"en"}
    await check_state(page, "09-english")


async def test_phone_width_without_horizontal_scrolling(
    visit: Opener, service: Service, api: Api, smtp: RunningServer
) -> None:
    await api.make_tab(available=True)
    current = await visit(width=390, height=844)
    page = current.page
    await current.sign_in(service.token)
    assert await no_horizontal_scroll(page)
    await fill_local_server(page, smtp, password=APP_PASSWORD)
    await page.get_by_label("Email отправителя").fill(
        "a-very-long-sender-address-for-a-narrow-screen@example.ru"
    )
    await page.get_by_role("button", name="Отправить").click()
    await expect(page.get_by_role("status")).to_contain_text("Тестовое письмо отправлено")
    assert await no_horizontal_scroll(page)
    await check_state(page, "10-phone-delivered")
    await page.get_by_label("Порт").fill("99999")
    await page.get_by_role("button", name="Сохранить").click()
    await expect(page.get_by_label("Порт")).to_have_attribute("aria-invalid", "true")
    assert await no_horizontal_scroll(page)
    await check_state(page, "11-phone-error")


FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}"""


async def test_keyboard_only_from_token_to_delivered_letter_and_sign_out(
    visit: Opener, service: Service, api: Api, smtp: RunningServer
) -> None:
    await api.make_tab(available=True)
    current = await visit()
    page = current.page
    keyboard = page.keyboard
    await page.goto(f"{service.base}/")

    async def tab_to(control_id: str) -> None:
        for _ in range(30):
            await keyboard.press("Tab")
            if await page.evaluate("document.activeElement.id") == control_id:
                assert await page.evaluate(FOCUS_RING), f"no visible focus on #{control_id}"
                return
        raise AssertionError(f"Tab never reached #{control_id}")

    await tab_to("token")
    await keyboard.type(service.token)
    await keyboard.press("Enter")
    await expect(page.locator("#mail-fields")).to_have_js_property("disabled", False)
    await tab_to("provider")
    await keyboard.press("End")  # Другой is the last service
    await expect(page.locator("#provider")).to_have_value("OTHER")
    await tab_to("smtpHost")
    await keyboard.type(smtp.host)
    await tab_to("useSsl")
    if not await page.locator("#useSsl").is_checked():
        await keyboard.press("Space")
    await tab_to("port")
    await keyboard.type(str(smtp.port))
    await tab_to("address")
    await keyboard.type(ACCOUNT)
    await tab_to("password")
    await keyboard.type(APP_PASSWORD)
    await tab_to("password-guide")
    await tab_to("recipient")
    await keyboard.type(RECIPIENT)
    letters = len(smtp.recorder.messages)
    await tab_to("send")
    await keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("Тестовое письмо отправлено")
    assert len(smtp.recorder.messages) == letters + 1
    await check_state(page, "12-keyboard-delivered")

    # Shift+Tab back to the top, then sign out: the token leaves the tab's storage.
    for _ in range(40):
        await keyboard.press("Shift+Tab")
        if await page.evaluate("document.activeElement.id") == "sign-out":
            break
    assert await page.evaluate(FOCUS_RING)
    await keyboard.press("Enter")
    await expect(page.locator("#mail-fields")).to_have_js_property("disabled", True)
    await expect(page.locator("#token")).to_be_focused()
    await expect(page.locator("#token")).to_have_value("")
    assert await page.evaluate("sessionStorage.getItem('mailtab.token')") is None
    await check_state(page, "13-signed-out-again")


async def test_a_wrong_token_is_marked_at_the_token_field(visit: Opener, service: Service) -> None:
    current = await visit()
    page = current.page
    await page.goto(f"{service.base}/")
    await page.get_by_label("Токен доступа").fill("mt_not-a-token")
    await page.get_by_role("button", name="Войти").click()
    token = page.get_by_label("Токен доступа")
    await expect(token).to_have_attribute("aria-invalid", "true")
    await expect(token).to_be_focused()
    assert "Токен не подошёл" in await described_text(page, "#token")
    await expect(page.locator("#mail-fields")).to_have_js_property("disabled", True)
    assert await page.evaluate("sessionStorage.getItem('mailtab.token')") is None


async def test_graphiql_renders_offline_and_runs_a_query(
    visit: Opener, service: Service, api: Api
) -> None:
    await api.make_tab(available=True)
    current = await visit(width=1280, height=800)
    page = current.page
    await current.sign_in(service.token)  # GraphiQL takes the tab's token for its headers
    await page.goto(f"{service.base}/graphql")
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    await page.get_by_role("button", name=re.compile("Execute query")).click()
    result = page.locator(".result-window")
    await expect(result).to_contain_text('"available": true')
    await expect(result).to_contain_text("smtp.gmail.com")
    await page.screenshot(path=str(ARTIFACTS / "14-graphiql.png"))


# --- what slots in when the API grows (SPEC.md §5, §6) ---------------------------------------


async def test_optional_features_slot_in_when_the_api_has_them(
    visit: Opener, service: Service, api: Api, smtp: RunningServer
) -> None:
    """The transcript, detection and OAuth2 parts, fed answers shaped as SPEC.md §5–§6 say.

    The API has none of these fields yet: the browser gets the feature list and those answers
    from this test; everything else is the real service.
    """
    await api.make_tab(available=True)
    current = await visit()
    page = current.page
    features = [
        "SendTestEmailPayload.steps",
        "Query.detectMailProvider",
        "Mutation.startMailOAuth",
        "MailProvider.oauth2Available",
    ]
    await page.route("**/features.json", lambda route: route.fulfill(json={"features": features}))
    steps = [
        {"name": "CONNECT", "status": "OK", "durationMs": 3, "smtpCode": None, "smtpReply": None},
        {
            "name": "AUTH",
            "status": "FAILED",
            "durationMs": 5,
            "smtpCode": 535,
            "smtpReply": "5.7.8 Authentication failed",
        },
    ]

    async def answer(route: Route, request: Request) -> None:
        body = json.loads(request.post_data or "{}")
        query = body.get("query", "")
        if "MailTabPage" in query:
            response = await route.fetch(
                post_data=json.dumps({**body, "query": query.replace(" oauth2Available", "")})
            )
            data = await response.json()
            for provider in data["data"]["mailProviders"]:
                provider["oauth2Available"] = provider["code"] == "GOOGLE"
            await route.fulfill(json=data)
        elif "DetectMailProvider" in query:
            await route.fulfill(
                json={
                    "data": {
                        "detectMailProvider": {
                            "suggestion": {
                                "provider": "OTHER",
                                "detectedBy": "SRV",
                                "smtpHost": smtp.host,
                                "port": smtp.port,
                                "security": "STARTTLS",
                            },
                            "errors": [],
                        }
                    }
                }
            )
        elif "SendTestEmail" in query:
            await route.fulfill(
                json={
                    "data": {
                        "sendTestEmail": {
                            "delivered": False,
                            "messageId": None,
                            "retryAfter": None,
                            "errors": [],
                            "failure": {
                                "code": "AUTH_FAILED",
                                "field": "password",
                                "message": "Неверный пароль.",
                                "hint": "Создайте пароль приложения.",
                                "helpUrl": "https://example.test/help",
                                "smtpCode": 535,
                                "smtpReply": "5.7.8 Authentication failed",
                            },
                            "steps": steps,
                        }
                    }
                }
            )
        elif "StartMailOAuth" in query:
            await route.fulfill(
                json={
                    "data": {
                        "startMailOAuth": {
                            "authorizationUrl": None,
                            "errors": [
                                {
                                    "field": "address",
                                    "code": "REQUIRED",
                                    "message": "Укажите адрес.",
                                }
                            ],
                        }
                    }
                }
            )
        else:
            await route.fallback()

    await page.route("**/graphql", answer)
    await current.sign_in(service.token)
    await page.get_by_label("Почтовый сервис").select_option(label="Другой")
    await page.get_by_label("SMTP-сервер").fill("")
    await page.get_by_label("Порт").fill("")
    await page.get_by_label("Адрес", exact=True).fill("orders@example.ru")
    await page.get_by_label("Адрес", exact=True).press("Tab")
    await expect(page.locator("#detect-apply")).to_contain_text(f"{smtp.host}:{smtp.port}")
    await page.locator("#detect-apply").click()
    await expect(page.get_by_label("SMTP-сервер")).to_have_value(smtp.host)
    await expect(page.get_by_label("Использовать SSL")).to_be_checked()

    await page.get_by_label("Пароль").fill("x")
    await page.get_by_label("Email получателя").fill(RECIPIENT)
    await page.get_by_role("button", name="Отправить").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Создайте пароль приложения.")
    await status.get_by_text("Ход SMTP-сеанса").click()
    await expect(status.locator("ol li")).to_have_count(2)
    await expect(status.locator("li.step-failed")).to_contain_text("535 5.7.8")
    await check_state(page, "15-steps-transcript")

    await page.get_by_label("Почтовый сервис").select_option(label="Google")
    connect = page.get_by_role("button", name="Подключить через OAuth2")
    await expect(connect).to_be_visible()
    await page.get_by_label("Адрес", exact=True).fill("")
    await connect.click()
    await expect(page.get_by_label("Адрес", exact=True)).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("Почтовый сервис").select_option(label="Yandex")
    await expect(connect).to_be_hidden()
