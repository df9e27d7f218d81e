"""The bilingual words of OAuth2 sign-in: the callback page and the sign-in failures.

One table a translator can read in one place; ``Text`` picks the request's language.
"""

from __future__ import annotations

from i18n import Text
from oauth.errors import CallbackProblem

__all__ = [
    "CALLBACK_PROBLEMS",
    "CLOSE_WINDOW",
    "CONNECTED",
    "CONNECTED_TITLE",
    "FAILED_TITLE",
    "LOGIN_REFUSED",
    "LOGIN_REFUSED_HINT",
    "NOT_CONFIGURED",
    "NOT_CONNECTED",
    "NOT_CONNECTED_HINT",
    "PROVIDER_REFUSED",
    "PROVIDER_REFUSED_HINT",
    "PROVIDER_UNAVAILABLE",
    "PROVIDER_UNAVAILABLE_HINT",
    "REAUTHORIZATION_REQUIRED",
    "REAUTHORIZATION_REQUIRED_HINT",
    "RETURN_URL_REFUSED",
    "START_AGAIN",
    "USE_OAUTH2_HINT",
]

CONNECTED_TITLE = Text(ru="Почтовый ящик подключён", en="Mailbox connected")
CONNECTED = Text(
    ru="Ящик {address} подключён через OAuth2. Письма будут отправляться со входом через {provider}.",
    en="The mailbox {address} is connected with OAuth2. Letters will be sent signed in through {provider}.",
)
CLOSE_WINDOW = Text(
    ru="Это окно можно закрыть и вернуться на вкладку «Почта».",
    en="You can close this window and go back to the Mail tab.",
)
FAILED_TITLE = Text(ru="Ящик не подключён", en="Mailbox not connected")
START_AGAIN = Text(
    ru="Ничего не изменилось. Вернитесь на вкладку «Почта» и нажмите «Подключить через OAuth2» ещё раз.",
    en="Nothing was changed. Go back to the Mail tab and press Connect with OAuth2 again.",
)

CALLBACK_PROBLEMS: dict[CallbackProblem, Text] = {
    CallbackProblem.STATE_MISSING: Text(
        ru="В ответе сервиса нет параметра state: эта ссылка не из подключения ящика.",
        en="The service's answer has no state parameter: this link does not come from connecting a mailbox.",
    ),
    CallbackProblem.STATE_UNKNOWN: Text(
        ru="Эта ссылка подключения здесь не выдавалась (или подделана).",
        en="This sign-in link was not issued here (or it was tampered with).",
    ),
    CallbackProblem.STATE_USED: Text(
        ru="Эта ссылка подключения уже использована: каждая действует один раз.",
        en="This sign-in link has been used already: each works once.",
    ),
    CallbackProblem.STATE_EXPIRED: Text(
        ru="Ссылка подключения устарела: на вход отводится 10 минут.",
        en="The sign-in link has expired: signing in must take less than 10 minutes.",
    ),
    CallbackProblem.STATE_REVOKED: Text(
        ru="Токен доступа, которым начали подключение, отозван.",
        en="The access token that started the sign-in has been revoked.",
    ),
    CallbackProblem.ACCESS_DENIED: Text(
        ru="Доступ не разрешён: на странице сервиса вход отклонили или отменили.",
        en="Access was not granted: the sign-in was declined or cancelled on the service's page.",
    ),
    CallbackProblem.PROVIDER_ERROR: Text(
        ru="Почтовый сервис сообщил об ошибке входа ({error}).",
        en="The mail service reported a sign-in error ({error}).",
    ),
    CallbackProblem.CODE_MISSING: Text(
        ru="В ответе сервиса нет кода авторизации.",
        en="The service's answer has no authorization code.",
    ),
    CallbackProblem.CODE_REFUSED: Text(
        ru="Почтовый сервис не принял код авторизации ({error}).",
        en="The mail service did not accept the authorization code ({error}).",
    ),
    CallbackProblem.NO_REFRESH_TOKEN: Text(
        ru="Почтовый сервис не выдал долгосрочный доступ (refresh token): без него письма "
        "нельзя отправлять позже. Подключите ящик ещё раз и подтвердите все запрошенные права.",
        en="The mail service gave no lasting access (refresh token): without it letters cannot "
        "be sent later. Connect the mailbox again and grant every permission asked for.",
    ),
    CallbackProblem.PROVIDER_UNAVAILABLE: Text(
        ru="Почтовый сервис сейчас не отвечает. Попробуйте подключить ящик ещё раз позже.",
        en="The mail service does not answer right now. Try connecting the mailbox again later.",
    ),
    CallbackProblem.NOT_CONFIGURED: Text(
        ru="Вход через OAuth2 для этого сервиса на сервере больше не настроен.",
        en="OAuth2 sign-in for this service is no longer set up on the server.",
    ),
}

NOT_CONFIGURED = Text(
    ru="Вход через OAuth2 для сервиса {title} не настроен на этом сервере "
    "(MAILTAB_OAUTH_{code}_CLIENT_ID).",
    en="OAuth2 sign-in for {title} is not set up on this server (MAILTAB_OAUTH_{code}_CLIENT_ID).",
)
RETURN_URL_REFUSED = Text(
    ru="Адрес возврата должен быть на том же сайте, что MAILTAB_PUBLIC_URL, или в MAILTAB_CORS_ORIGINS.",
    en="The return address must be on the same origin as MAILTAB_PUBLIC_URL or in MAILTAB_CORS_ORIGINS.",
)
NOT_CONNECTED = Text(
    ru="Ящик {address} не подключён через OAuth2.",
    en="The mailbox {address} is not connected with OAuth2.",
)
NOT_CONNECTED_HINT = Text(
    ru="Нажмите «Подключить через OAuth2», войдите в ящик и сохраните настройки.",
    en="Press Connect with OAuth2, sign in to the mailbox, and save the settings.",
)
REAUTHORIZATION_REQUIRED = Text(
    ru="Почтовый сервис больше не принимает вход этого ящика через OAuth2 (доступ отозван, "
    "истёк или сменился пароль).",
    en="The mail service no longer accepts this mailbox's OAuth2 sign-in (access was revoked, "
    "expired, or the password changed).",
)
REAUTHORIZATION_REQUIRED_HINT = Text(
    ru="Подключите ящик заново: «Подключить через OAuth2».",
    en="Connect the mailbox again: Connect with OAuth2.",
)
USE_OAUTH2_HINT = Text(
    ru="Пароль здесь не поможет, но вход через OAuth2 на этом сервере настроен: нажмите "
    "«Подключить через OAuth2», войдите в ящик и сохраните настройки со способом входа OAuth2.",
    en="A password will not help, but OAuth2 sign-in is set up on this server: press Connect "
    "with OAuth2, sign in to the mailbox and save the settings with the OAuth2 sign-in method.",
)
LOGIN_REFUSED = Text(
    ru="SMTP-сервер не принял вход через OAuth2 для {address}, даже с новым ключом доступа.",
    en="The SMTP server did not accept the OAuth2 sign-in of {address}, even with a new access token.",
)
LOGIN_REFUSED_HINT = Text(
    ru="Подключите ящик заново, войдя именно в {address}; у Microsoft 365 для ящика должна быть "
    "разрешена отправка через SMTP (Authenticated SMTP).",
    en="Connect the mailbox again, signing in as {address} itself; with Microsoft 365 the mailbox "
    "must allow Authenticated SMTP.",
)
PROVIDER_UNAVAILABLE = Text(
    ru="Почтовый сервис не выдал ключ доступа: его сервер входа сейчас не отвечает.",
    en="The mail service gave no access token: its sign-in server does not answer right now.",
)
PROVIDER_UNAVAILABLE_HINT = Text(
    ru="Это временно: повторите отправку через несколько минут. Подключение ящика не изменилось.",
    en="This is temporary: send again in a few minutes. The mailbox connection is unchanged.",
)
PROVIDER_REFUSED = Text(
    ru="Почтовый сервис отказал в ключе доступа ({error}).",
    en="The mail service refused an access token ({error}).",
)
PROVIDER_REFUSED_HINT = Text(
    ru="Проверьте регистрацию приложения у сервиса (MAILTAB_OAUTH_*), затем подключите ящик заново.",
    en="Check the application's registration with the service (MAILTAB_OAUTH_*), then connect the mailbox again.",
)
