"""Every sentence a failed test letter is explained with, Russian and English side by side.

One table for translators and proof-readers: ``mail.classify`` decides which text
applies and fills in ``{host}``, ``{port}`` and the like; nothing here decides anything.
A ``…_HINT`` is what to do about the text of the same name. The table is long on
purpose: all of it in one file is what makes it proof-readable.
"""

from __future__ import annotations

from i18n import Text
from mail.errors import Refusal
from mail.failures import CertificateProblem
from mail.presets import ProviderCode

IMPLICIT_TLS_EXPECTED_HINT_NO_SSL = Text(
    ru="Включите «Использовать SSL» (порт 465) или укажите порт 587.",
    en="Tick Use SSL (port 465) or use port 587.",
)
IMPLICIT_TLS_EXPECTED_HINT = Text(
    ru="Укажите порт 465 с SSL с самого начала (режим SSL/TLS) или порт 587 для STARTTLS.",
    en="Use port 465 with SSL from the start (SSL/TLS mode), or port 587 for STARTTLS.",
)
IMPLICIT_TLS_EXPECTED = Text(
    ru="Порт {port} ждёт SSL с первого байта, а соединение открывалось без него.",
    en="Port {port} expects SSL from the first byte, but the connection was opened without it.",
)
NOT_SMTP_SERVER = Text(
    ru="Сервер {host}:{port} не работает по протоколу SMTP.",
    en="The server at {host}:{port} does not speak SMTP.",
)
NOT_SMTP_SERVER_HINT = Text(
    ru="Проверьте SMTP-сервер и порт: по этому адресу отвечает другая служба. "
    "Почту для отправки обычно принимают порты 465 (SSL) и 587 (STARTTLS). "
    "Письмо не отправлялось.",
    en="Check the SMTP server and the port: another service answers there. Mail "
    "submission usually listens on ports 465 (SSL) and 587 (STARTTLS). Nothing was "
    "sent.",
)
SMTPUTF8_NOT_SUPPORTED = Text(
    ru="В адресе есть буквы не латиницей до «@», а сервер не поддерживает такие адреса (SMTPUTF8).",
    en="The address has non-Latin letters before the “@”, and the server does not "
    "support such addresses (SMTPUTF8).",
)
SMTPUTF8_NOT_SUPPORTED_HINT = Text(
    ru="Используйте адрес, написанный латинскими буквами.",
    en="Use an address written in Latin letters.",
)
DNS_TIMED_OUT = Text(
    ru="Не удалось узнать адрес сервера «{host}»: DNS не ответил.",
    en='Could not look up the server "{host}": DNS did not answer.',
)
DNS_NOT_FOUND = Text(
    ru="Сервер «{host}» не найден: такого имени нет в DNS.",
    en='Server "{host}" not found: the name does not resolve.',
)
DNS_TIMED_OUT_HINT = Text(
    ru="Служба имен (DNS) сейчас не отвечает: повторите попытку позже; если ошибка "
    "не проходит, проверьте доступ сервера mailtab к DNS.",
    en="The name service (DNS) is not answering right now: try again later; if it "
    "persists, check the mailtab server's access to DNS.",
)
DNS_NOT_FOUND_HINT = Text(
    ru="Проверьте, как написан адрес SMTP-сервера, — например, smtp.yandex.ru "
    "для Яндекса или smtp.mail.ru для Mail.ru.",
    en="Check the spelling of the SMTP server, e.g. smtp.yandex.ru for Yandex "
    "or smtp.mail.ru for Mail.ru.",
)
CONNECTION_REFUSED = Text(
    ru="Сервер {host} отклонил подключение к порту {port}: почтовая служба на нём не работает.",
    en="{host} refused the connection on port {port}: no mail service listens there.",
)
CONNECTION_REFUSED_HINT = Text(
    ru="Проверьте порт: обычно это 465 (SSL) или 587 (STARTTLS).",
    en="Check the port: usually 465 (SSL) or 587 (STARTTLS).",
)
HOST_UNREACHABLE = Text(
    ru="Сервер {host} недоступен из сети, где работает программа.",
    en="{host} cannot be reached from the network this service runs in.",
)
HOST_UNREACHABLE_HINT = Text(
    ru="Проверьте адрес сервера и выход в интернет: исходящие подключения может "
    "закрывать межсетевой экран.",
    en="Check the server address and the internet access: a firewall may block "
    "outgoing connections.",
)
CONNECT_TIMEOUT = Text(
    ru="Сервер {host} не ответил на порту {port} за отведённое время.",
    en="{host} did not answer on port {port} in time.",
)
CONNECT_TIMEOUT_HINT = Text(
    ru="Проверьте адрес и порт. Исходящие подключения к порту {port} может "
    "блокировать межсетевой экран или хостинг-провайдер (порт 25 закрыт часто).",
    en="Check the server and port. A firewall or the hosting provider may block "
    "outgoing connections to port {port} (port 25 often is).",
)
EXCHANGE_TIMEOUT = Text(
    ru="Сервер {host} перестал отвечать во время отправки.",
    en="{host} stopped answering during the exchange.",
)
EXCHANGE_TIMEOUT_HINT = Text(
    ru="Повторите попытку позже; если не поможет, проверьте порт и режим защиты.",
    en="Try again later; if that does not help, check the port and the security mode.",
)
IMPLICIT_TLS_REFUSED = Text(
    ru="Сервер на порту {port} не ждёт SSL с самого начала: здесь защита включается "
    "командой STARTTLS или не используется.",
    en="The server on port {port} does not expect SSL from the start: here encryption "
    "is switched on with STARTTLS, or not used.",
)
IMPLICIT_TLS_REFUSED_HINT = Text(
    ru="Укажите порт 587 (STARTTLS) или порт 465 с SSL.",
    en="Use port 587 (STARTTLS), or port 465 with SSL.",
)
STARTTLS_NOT_OFFERED = Text(
    ru="Сервер {host}:{port} не предлагает STARTTLS, поэтому защищённое соединение "
    "не установлено и пароль не отправлялся.",
    en="{host}:{port} does not offer STARTTLS, so no secure connection was made and "
    "the password was not sent.",
)
STARTTLS_NOT_OFFERED_HINT = Text(
    ru="Попробуйте порт 465 с SSL. Если сервер совсем не умеет шифровать, снимите "
    "«Использовать SSL», но пароль тогда пойдёт открытым текстом: так можно только "
    "внутри доверенной сети.",
    en="Try port 465 with SSL. If the server cannot encrypt at all, untick Use SSL, "
    "but the password then travels in clear text: acceptable only inside a trusted "
    "network.",
)
TLS_REQUIRED = Text(
    ru="Сервер принимает вход и письма только по защищённому соединению.",
    en="The server accepts logins and letters only over a secure connection.",
)
TLS_REQUIRED_HINT = Text(
    ru="Включите «Использовать SSL»: на порту 465 — SSL с самого начала, на порту 587 — STARTTLS.",
    en="Tick Use SSL: SSL from the start on port 465, STARTTLS on port 587.",
)
TLS_HANDSHAKE = Text(
    ru="Не удалось установить защищённое соединение с {host}:{port}.",
    en="Could not set up a secure connection with {host}:{port}.",
)
TLS_HANDSHAKE_HINT = Text(
    ru="Сервер может поддерживать только устаревшие версии TLS. Проверьте порт и режим "
    "защиты или обратитесь к администратору почтового сервера.",
    en="The server may support only outdated TLS versions. Check the port and the "
    "security mode, or ask the mail server's administrator.",
)
CERTIFICATE = {
    CertificateProblem.UNTRUSTED: (
        Text(
            ru="Сертификат сервера {host} самоподписан или выдан неизвестным центром "
            "сертификации, поэтому ему нельзя доверять.",
            en="The certificate of {host} is self-signed or issued by an unknown "
            "certificate authority, so it cannot be trusted.",
        ),
        Text(
            ru="Если это ваш внутренний сервер, администратор развёртывания может добавить "
            "его корневой сертификат (MAILTAB_SMTP_CA_FILE). Иначе проверьте, что указан "
            "настоящий адрес почтового сервера.",
            en="If this is your own on-premises server, the deployment's administrator can "
            "add its root certificate (MAILTAB_SMTP_CA_FILE). Otherwise check that the "
            "server address is the real one.",
        ),
    ),
    CertificateProblem.EXPIRED: (
        Text(
            ru="Срок действия сертификата сервера {host} истёк.",
            en="The certificate of {host} has expired.",
        ),
        Text(
            ru="Сертификат должен обновить администратор почтового сервера. Проверьте "
            "также дату и время на этом компьютере.",
            en="The mail server's administrator has to renew it. Also check the date and "
            "time of this machine.",
        ),
    ),
    CertificateProblem.NOT_YET_VALID: (
        Text(
            ru="Сертификат сервера {host} ещё не вступил в силу.",
            en="The certificate of {host} is not valid yet.",
        ),
        Text(
            ru="Проверьте дату и время на этом компьютере и на почтовом сервере.",
            en="Check the date and time of this machine and of the mail server.",
        ),
    ),
    CertificateProblem.HOSTNAME_MISMATCH: (
        Text(
            ru="Сертификат сервера выдан на другое имя, не на «{host}».",
            en='The server\'s certificate is issued for another name, not "{host}".',
        ),
        Text(
            ru="Укажите имя сервера так, как оно записано в сертификате (например, "
            "smtp.example.ru, а не IP-адрес или псевдоним).",
            en="Enter the server name exactly as its certificate shows it (for example "
            "smtp.example.ru, not an IP address or an alias).",
        ),
    ),
    CertificateProblem.OTHER: (
        Text(
            ru="Сертификат сервера {host} не прошёл проверку.",
            en="The certificate of {host} failed verification.",
        ),
        Text(
            ru="Обратитесь к администратору почтового сервера.",
            en="Ask the mail server's administrator.",
        ),
    ),
}
AUTH_FAILED_HINT_YANDEX = Text(
    ru="Проверьте пароль: нужен пароль приложения. Яндекс отзывает все пароли "
    "приложений при смене основного пароля, тогда создайте новый.",
    en="Check the password: an app password is needed. Yandex revokes all app "
    "passwords when the main password changes; then create a new one.",
)
AUTH_FAILED_HINT_RAMBLER = Text(
    ru="Проверьте пароль и включите «Доступ к почтовому ящику с помощью почтовых "
    "клиентов» в настройках Рамблер/почты.",
    en="Check the password and switch on access from mail clients in the Rambler mail settings.",
)
AUTH_FAILED_HINT_APP_PASSWORD = Text(
    ru="Нужен пароль приложения, а не обычный пароль от почты. Если он уже введён, "
    "создайте новый: старый мог быть отозван.",
    en="An app password is needed, not the mailbox's normal password. If one is "
    "already entered, create a new one: the old one may have been revoked.",
)
AUTH_FAILED_HINT = Text(
    ru="Проверьте пароль. Логином служит полный адрес ({address}).",
    en="Check the password. The login is the full address ({address}).",
)
AUTH_FAILED = Text(
    ru="Сервер не принял адрес и пароль.",
    en="The server did not accept the address and password.",
)
APP_PASSWORD_REQUIRED_HINTS = {
    ProviderCode.GOOGLE: Text(
        ru="Включите двухэтапную аутентификацию в аккаунте Google, создайте пароль "
        "приложения и вставьте его в поле «Пароль».",
        en="Turn on 2-Step Verification in the Google account, create an app password "
        "and paste it into Password.",
    ),
    ProviderCode.MAIL_RU: Text(
        ru="Создайте «пароль для внешнего приложения» в настройках безопасности Mail.ru "
        "и вставьте его в поле «Пароль».",
        en='Create a "password for an external application" in the Mail.ru security '
        "settings and paste it into Password.",
    ),
    ProviderCode.YANDEX: Text(
        ru="Включите доступ почтовых программ (Настройки → Почтовые программы), создайте "
        "пароль приложения в Яндекс ID и вставьте его в поле «Пароль».",
        en="Switch on access for mail clients (Settings → Email clients), create an app "
        "password in Yandex ID and paste it into Password.",
    ),
}
APP_PASSWORD_REQUIRED_HINT = Text(
    ru="Создайте пароль приложения в настройках безопасности почтового ящика и "
    "вставьте его в поле «Пароль».",
    en="Create an app password in the mailbox's security settings and paste it into Password.",
)
APP_PASSWORD_REQUIRED = Text(
    ru="Почтовый сервис требует пароль приложения: обычный пароль от почты "
    "для программ не подходит.",
    en="The mail service requires an app password: the mailbox's normal password "
    "is not accepted from programs.",
)
PASSWORD_LOGIN_DISABLED = Text(
    ru="Microsoft больше не принимает вход по паролю для отправки почты: нужен вход через OAuth2.",
    en="Microsoft no longer accepts password sign-in for sending mail: OAuth2 sign-in is required.",
)
PASSWORD_LOGIN_DISABLED_HINT = Text(
    ru="Пароль приложения здесь не поможет. Используйте другой почтовый сервис или, "
    "для ящика Microsoft 365, попросите администратора организации разрешить для него "
    "SMTP AUTH.",
    en="An app password will not help. Use another mail service or, for a Microsoft "
    "365 mailbox, ask the organisation's administrator to allow SMTP AUTH for it.",
)
WEB_LOGIN_REQUIRED = Text(
    ru="Почтовый сервис временно не пускает почтовые программы в этот ящик "
    "(подозрение на взлом или рассылку спама).",
    en="The mail service temporarily keeps mail programs out of this mailbox "
    "(suspected break-in or spam).",
)
WEB_LOGIN_REQUIRED_HINT = Text(
    ru="Войдите в веб-почту в браузере, пройдите проверку («я не робот», "
    "подтверждение входа) и повторите отправку.",
    en="Sign in to the web mail in a browser, pass the check (captcha, sign-in "
    "confirmation) and try again.",
)
SENDER_EMAIL_REJECTED = Text(
    ru="Сервер отказался отправлять письмо от имени {sender}.",
    en="The server refused to send as {sender}.",
)
SENDER_EMAIL_REJECTED_HINT = Text(
    ru="Укажите в «Email отправителя» тот же адрес, что и в поле «Адрес»: сервис "
    "разрешает отправку только от своего ящика.",
    en="Set Sender email to the same address as Address: the service lets you "
    "send only as your own mailbox.",
)
SENDER_ADDRESS_REJECTED = Text(
    ru="Сервер отказался отправлять письмо от адреса {sender}.",
    en="The server refused to send from {sender}.",
)
SENDER_ADDRESS_REJECTED_HINT = Text(
    ru="Проверьте поле «Адрес»: сервер не считает этот адрес принадлежащим учётной "
    "записи, под которой выполнен вход.",
    en="Check Address: the server does not consider it to belong to the account that logged in.",
)
RECIPIENT_REJECTED = Text(
    ru="Сервер отказался принять письмо для {recipient}.",
    en="The server refused to take the letter for {recipient}.",
)
RECIPIENT_REJECTED_HINT = Text(
    ru="Проверьте адрес получателя тестового письма. Подключение и вход прошли "
    "успешно, так что настройки отправки, скорее всего, верны.",
    en="Check the test letter's recipient. Connecting and signing in worked, so the "
    "sending settings are most likely right.",
)
RELAY_DENIED = Text(
    ru="Сервер отказался пересылать письмо дальше (relay access denied).",
    en="The server refused to relay the letter (relay access denied).",
)
RELAY_DENIED_HINT = Text(
    ru="Используйте порт для отправки с паролем (587 или 465), а не 25, и проверьте, "
    "что адрес в поле «Адрес» относится к этому серверу.",
    en="Use the submission port (587 or 465), not 25, and check that Address belongs "
    "to this server.",
)
MESSAGE_REJECTED = Text(
    ru="Сервер отклонил само письмо.",
    en="The server rejected the letter itself.",
)
MESSAGE_REJECTED_HINT = Text(
    ru="Причину объясняет ответ сервера; чаще всего это спам-фильтр или лимит отправки.",
    en="The server's reply explains why; most often a spam filter or a sending limit.",
)
TEMPORARY_FAILURE = Text(
    ru="Сервер временно не может принять письмо (код {code}).",
    en="The server cannot take the letter right now (code {code}).",
)
TEMPORARY_FAILURE_HINT = Text(
    ru="Повторите попытку позже. Если ошибка повторяется, проверьте лимиты отправки "
    "почтового ящика.",
    en="Try again later. If it keeps happening, check the mailbox's sending limits.",
)
SERVER_DISCONNECTED = Text(
    ru="Сервер {host}:{port} неожиданно закрыл соединение.",
    en="{host}:{port} closed the connection unexpectedly.",
)
SERVER_DISCONNECTED_HINT = Text(
    ru="Проверьте порт и режим защиты. Сервер мог также временно ограничить "
    "подключения с этого адреса; тогда повторите позже.",
    en="Check the port and the security mode. The server may also be limiting "
    "connections from this address for a while; then try again later.",
)
AUTH_NOT_SUPPORTED = Text(
    ru="Сервер {host}:{port} не принимает вход по паролю на этом порту.",
    en="{host}:{port} does not accept a password login on this port.",
)
AUTH_NOT_SUPPORTED_HINT = Text(
    ru="Для отправки с паролем обычно служат порты 465 и 587; порт 25 — для "
    "пересылки между серверами.",
    en="Password logins usually go to ports 465 and 587; port 25 is for server-to-server relay.",
)
UNKNOWN = Text(
    ru="Не удалось отправить тестовое письмо.",
    en="The test letter could not be sent.",
)
UNKNOWN_HINT = Text(
    ru="Причину поможет понять ответ сервера.",
    en="The server's reply may explain why.",
)

ADDRESS_REFUSED: dict[Refusal, Text] = {
    Refusal.METADATA: Text(
        ru="Подключаться к адресу {address} запрещено: это служебный адрес метаданных "
        "облака, а не почтовый сервер.",
        en="Connecting to {address} is not allowed: it is a cloud metadata endpoint, "
        "not a mail server.",
    ),
    Refusal.LINK_LOCAL: Text(
        ru="Подключаться к адресу {address} запрещено: это адрес link-local (169.254.0.0/16, "
        "fe80::/10), в облаках за ним стоят служебные метаданные.",
        en="Connecting to {address} is not allowed: it is a link-local address "
        "(169.254.0.0/16, fe80::/10), where clouds keep their metadata service.",
    ),
    Refusal.UNSPECIFIED: Text(
        ru="Подключаться к адресу {address} запрещено: это «неопределённый» адрес, он "
        "ведёт не к почтовому серверу, а на сам сервер программы.",
        en="Connecting to {address} is not allowed: it is an unspecified address, which "
        "leads to this service's own machine, not to a mail server.",
    ),
    Refusal.MULTICAST: Text(
        ru="Подключаться к адресу {address} запрещено: это групповой (multicast) адрес, "
        "почтового сервера по нему быть не может.",
        en="Connecting to {address} is not allowed: it is a multicast address, where no "
        "mail server can be.",
    ),
    Refusal.BROADCAST: Text(
        ru="Подключаться к адресу {address} запрещено: это широковещательный адрес.",
        en="Connecting to {address} is not allowed: it is the broadcast address.",
    ),
    Refusal.DEPLOYMENT: Text(
        ru="Подключаться к адресу {address} запрещено: настройки этого развёртывания "
        "не разрешают подключения к его сети.",
        en="Connecting to {address} is not allowed: this deployment forbids connections "
        "to its network.",
    ),
}
ADDRESS_REFUSED_HINT = Text(
    ru="Укажите адрес настоящего почтового сервера. Если это и есть ваш сервер, "
    "администратор развёртывания может разрешить его сеть (MAILTAB_SMTP_ALLOW_NETWORKS).",
    en="Enter the real mail server. If this is your server, the deployment's "
    "administrator can allow its network (MAILTAB_SMTP_ALLOW_NETWORKS).",
)
DEPLOYMENT_REFUSED_HINT = Text(
    ru="Укажите другой SMTP-сервер или попросите администратора развёртывания открыть эту "
    "сеть (она закрыта в MAILTAB_SMTP_DENY_NETWORKS).",
    en="Use another SMTP server, or ask the deployment's administrator to open this "
    "network (MAILTAB_SMTP_DENY_NETWORKS closes it).",
)

CA_FILE_UNUSABLE = Text(
    ru="Не удалось загрузить файл доверенных сертификатов этого развёртывания "
    "(MAILTAB_SMTP_CA_FILE), поэтому сертификат сервера {host} нельзя проверить.",
    en="The deployment's file of trusted certificates (MAILTAB_SMTP_CA_FILE) "
    "cannot be used, so the certificate of {host} cannot be checked.",
)
CA_FILE_UNUSABLE_HINT = Text(
    ru="Это настройка сервера, а не ваших данных: обратитесь к администратору "
    "развёртывания. К серверу не подключались.",
    en="This is a server setting, not your input: ask the deployment's "
    "administrator. No connection was made to the server.",
)
