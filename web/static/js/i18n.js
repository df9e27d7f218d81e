// The page's own words, Russian first. Messages about the mail settings come from the API,
// already in the language the page asks for (Accept-Language).

const TEXTS = {
  ru: {
    docTitle: "Почта — mailtab",
    title: "Почта",
    intro: "Почтовый сервис, через который клиентам уходят уведомления по email.",
    accessHeading: "Доступ к API",
    token: "Токен доступа",
    tokenHint:
      "Токен администратора (mailtab token create --role admin). Хранится только в этой вкладке браузера, пока вы не выйдете.",
    signIn: "Войти",
    signOut: "Выйти",
    signedIn: "Вход выполнен.",
    signedOut: "Вы вышли: токен удалён из этой вкладки браузера.",
    signInFirst: "Войдите с токеном доступа, чтобы настроить почту.",
    tokenRequired: "Введите токен доступа.",
    tokenRejected: "Токен не подошёл: проверьте его или создайте новый.",
    forbidden: "Этому токену это действие не разрешено: нужна роль admin.",
    mailHeading: "Настройки почты",
    choose: "— выберите —",
    provider: "Почтовый сервис",
    smtpHost: "SMTP-сервер",
    useSsl: "Использовать SSL",
    useSslHint: "Порт 465 — защищённое соединение сразу (SSL/TLS), другой порт — STARTTLS.",
    port: "Порт",
    address: "Адрес",
    addressHint: "С этого адреса уходят письма; он же логин на почтовом сервере.",
    password: "Пароль",
    passwordAppHint: "Нужен пароль приложения, а не пароль от ящика.",
    passwordGuide: "Как создать пароль приложения",
    providerGuide: "Инструкция сервиса {provider}",
    passwordSaved: "Пароль сохранён. Оставьте поле пустым, чтобы не менять его.",
    senderName: "Имя отправителя",
    senderNameHint: "Это имя клиенты видят в поле «От».",
    senderEmail: "Email отправителя",
    senderEmailHint: "Адрес в поле «От»; если пусто — Адрес.",
    recipient: "Email получателя",
    recipientHint: "Кому отправить тестовое письмо (не сохраняется).",
    send: "Отправить",
    save: "Сохранить",
    sending: "Отправка…",
    saving: "Сохранение…",
    sendingWait: "Письмо отправляется: ждём ответа почтового сервера…",
    loading: "Загрузка…",
    otherHint: "Укажите SMTP-сервер, порт и SSL сами.",
    presetHint: "SMTP-сервер, порт и SSL заполнены для сервиса {provider}; их можно изменить.",
    checklist: "Что сделать в почтовом ящике заранее:",
    oauthOnly:
      "Этот сервис больше не принимает вход по паролю: подключите ящик через OAuth2.",
    oauthConnect: "Подключить через OAuth2",
    oauthConnecting: "Переход к сервису…",
    saved: "Настройки сохранены.",
    warnings: "Обратите внимание:",
    notSaved: "Не сохранено: исправьте отмеченные поля.",
    notSent: "Письмо не отправлено: исправьте отмеченные поля.",
    delivered: "Тестовое письмо отправлено на {recipient}.",
    messageId: "Message-ID:",
    failed: "Тестовое письмо не доставлено.",
    serverReply: "Ответ сервера:",
    help: "Подробнее",
    steps: "Ход SMTP-сеанса",
    stepOk: "успешно",
    stepFailed: "ошибка",
    stepSkipped: "пропущено",
    retryAfter: "Попробуйте снова через {seconds} с.",
    unavailable: "Вкладка «Почта» пока недоступна. Сначала заполните вкладки: {tabs}.",
    OUR_FIRMS: "Наши фирмы",
    OUTLETS_AND_WAREHOUSES: "Торговые точки и склады",
    checkAgain: "Проверить снова",
    required: "Заполните это поле.",
    chooseProvider: "Выберите почтовый сервис.",
    portInvalid: "Порт — целое число от 1 до 65535.",
    networkError: "Сервис не отвечает. Проверьте соединение и попробуйте снова.",
    serviceError: "Ошибка сервиса: {message}",
    detected: "Похоже, это адрес сервиса {provider}.",
    detectedServer: "Для этого домена найден сервер {host}:{port}.",
    detectApply: "Заполнить настройки {provider}",
    detectApplyServer: "Подставить {host}:{port}",
    graphiqlLink: "GraphiQL — для разработчиков",
  },
  en: {
    docTitle: "Mail — mailtab",
    title: "Mail",
    intro: "The mail service that sends customers their email notifications.",
    accessHeading: "API access",
    token: "Access token",
    tokenHint:
      "An admin token (mailtab token create --role admin). Kept in this browser tab only, until you sign out.",
    signIn: "Sign in",
    signOut: "Sign out",
    signedIn: "Signed in.",
    signedOut: "Signed out: the token is removed from this browser tab.",
    signInFirst: "Sign in with an access token to set up mail.",
    tokenRequired: "Enter the access token.",
    tokenRejected: "The token was not accepted: check it or create a new one.",
    forbidden: "This token may not do that: the admin role is needed.",
    mailHeading: "Mail settings",
    choose: "— choose —",
    provider: "Mail service",
    smtpHost: "SMTP server",
    useSsl: "Use SSL",
    useSslHint: "Port 465: a secure connection from the start (SSL/TLS); another port: STARTTLS.",
    port: "Port",
    address: "Address",
    addressHint: "Letters are sent from this address; it is also the login at the mail server.",
    password: "Password",
    passwordAppHint: "An app password is needed, not the mailbox password.",
    passwordGuide: "How to create an app password",
    providerGuide: "{provider}'s instructions",
    passwordSaved: "A password is saved. Leave the field empty to keep it.",
    senderName: "Sender name",
    senderNameHint: "The name customers see in “From”.",
    senderEmail: "Sender email",
    senderEmailHint: "The address in “From”; empty: the Address.",
    recipient: "Recipient email",
    recipientHint: "Where the test letter goes (not saved).",
    send: "Send",
    save: "Save",
    sending: "Sending…",
    saving: "Saving…",
    sendingWait: "The letter is on its way: waiting for the mail server…",
    loading: "Loading…",
    otherHint: "Enter the SMTP server, port and SSL yourself.",
    presetHint: "SMTP server, port and SSL are filled in for {provider}; you may change them.",
    checklist: "What to do in the mailbox first:",
    oauthOnly: "This service no longer accepts password logins: connect the mailbox with OAuth2.",
    oauthConnect: "Connect with OAuth2",
    oauthConnecting: "Opening the service…",
    saved: "Settings saved.",
    warnings: "Please note:",
    notSaved: "Not saved: correct the marked fields.",
    notSent: "The letter was not sent: correct the marked fields.",
    delivered: "The test letter was sent to {recipient}.",
    messageId: "Message-ID:",
    failed: "The test letter was not delivered.",
    serverReply: "Server reply:",
    help: "More help",
    steps: "SMTP session steps",
    stepOk: "ok",
    stepFailed: "failed",
    stepSkipped: "skipped",
    retryAfter: "Try again in {seconds} s.",
    unavailable: "The Mail tab is not available yet. First fill in the tabs: {tabs}.",
    OUR_FIRMS: "Our firms",
    OUTLETS_AND_WAREHOUSES: "Outlets and warehouses",
    checkAgain: "Check again",
    required: "Fill in this field.",
    chooseProvider: "Choose a mail service.",
    portInvalid: "The port is a whole number from 1 to 65535.",
    networkError: "The service does not answer. Check the connection and try again.",
    serviceError: "Service error: {message}",
    detected: "This looks like a {provider} address.",
    detectedServer: "A server was found for this domain: {host}:{port}.",
    detectApply: "Use {provider}'s settings",
    detectApplyServer: "Use {host}:{port}",
    graphiqlLink: "GraphiQL, for developers",
  },
};

/** "en" when the browser's languages name English before Russian, else "ru" (as the API does). */
export function chooseLanguage(languages) {
  for (const tag of languages || []) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (primary === "ru" || primary === "en") {
      return primary;
    }
  }
  return "ru";
}

export function translator(lang) {
  const texts = TEXTS[lang] || TEXTS.ru;
  return function t(key, params = {}) {
    const text = texts[key] ?? TEXTS.ru[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
  };
}

/** Puts the page's static words into the chosen language. */
export function translatePage(document, lang, t) {
  document.documentElement.lang = lang;
  document.title = t("docTitle");
  for (const element of document.querySelectorAll("[data-t]")) {
    element.textContent = t(element.dataset.t);
  }
}
