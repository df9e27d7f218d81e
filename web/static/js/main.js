// The Mail tab page: the seed's form over mailtab's GraphQL API (SPEC.md §7).

import { Api, ApiError, TokenStore, loadFeatures } from "./api.js";
import { el, externalLink, safeUrl, show } from "./dom.js";
import { chooseLanguage, translatePage, translator } from "./i18n.js";
import {
  DETECT_QUERY,
  START_OAUTH_MUTATION,
  loadQuery,
  saveMutation,
  sendMutation,
} from "./queries.js";

/** The form's controls, in the order they appear (the first marked one gets the focus). */
const FIELDS = [
  "provider",
  "smtpHost",
  "useSsl",
  "port",
  "address",
  "password",
  "senderName",
  "senderEmail",
  "recipient",
];

/** API input fields without a control of their own, and the control that stands for them. */
const FIELD_CONTROLS = { security: "useSsl", authMethod: "provider", settings: "provider" };

const IMPLICIT_TLS_PORT = 465;

function derivedSecurity(useSsl, port) {
  if (!useSsl) {
    return "NONE";
  }
  return port === IMPLICIT_TLS_PORT ? "SSL_TLS" : "STARTTLS";
}

class MailTabPage {
  constructor(doc, win) {
    this.doc = doc;
    this.win = win;
    this.lang = chooseLanguage(win.navigator.languages || [win.navigator.language]);
    this.t = translator(this.lang);
    this.tokens = new TokenStore(win.sessionStorage);
    this.api = new Api({ endpoint: "graphql", lang: this.lang, tokens: this.tokens });
    this.features = new Set();
    this.providers = new Map();
    this.tab = null;
    this.hasPassword = false;
    this.savedAccount = null; // {address, smtpHost}: the account whose password is stored
    this.security = null; // {port, useSsl, security}: an explicit mode the checkbox cannot show
    this.busy = false;
    this.detectSeq = 0;
    this.$ = (id) => doc.getElementById(id);
  }

  async start() {
    translatePage(this.doc, this.lang, this.t);
    this.wire();
    this.features = await loadFeatures("features.json");
    if (this.tokens.get()) {
      this.$("token").value = this.tokens.get();
      await this.load({ announce: false });
    } else {
      this.lockForm(this.t("signInFirst"), { checkAgain: false });
    }
  }

  showSignedIn(signedIn) {
    show(this.$("sign-out"), signedIn);
  }

  wire() {
    this.$("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.signIn();
    });
    this.$("sign-out").addEventListener("click", () => this.signOut());
    this.$("mail-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.$("send").addEventListener("click", () => this.send());
    this.$("provider").addEventListener("change", () => this.chooseProvider());
    this.$("address").addEventListener("change", () => this.detect());
    this.$("check-again").addEventListener("click", () => this.load({ announce: false }));
    this.$("oauth-connect").addEventListener("click", () => this.connectOAuth());
    this.$("mail-form").addEventListener("input", (event) => {
      const name = event.target.id;
      if (FIELDS.includes(name)) {
        this.unmark(name);
      }
      if (name === "address" || name === "smtpHost") {
        this.describePassword();
      }
    });
    this.$("token").addEventListener("input", () => this.unmark("token"));
  }

  // --- signing in and out -------------------------------------------------------------------

  async signIn() {
    const token = this.$("token").value.trim();
    this.unmark("token");
    if (!token) {
      this.mark("token", this.t("tokenRequired"));
      this.$("token").focus();
      return;
    }
    this.tokens.set(token);
    await this.load({ announce: true });
  }

  signOut() {
    this.tokens.clear();
    this.$("token").value = "";
    this.unmark("token");
    this.resetForm();
    this.showSignedIn(false);
    this.lockForm(this.t("signInFirst"), { checkAgain: false });
    this.setStatus(el("div", {}, el("p", {}, this.t("signedOut"))));
    this.$("token").focus();
  }

  tokenRejected() {
    this.tokens.clear();
    this.resetForm();
    this.showSignedIn(false);
    this.lockForm(this.t("signInFirst"), { checkAgain: false });
    this.mark("token", this.t("tokenRejected"));
    this.$("token").focus();
  }

  // --- loading ------------------------------------------------------------------------------

  async load({ announce }) {
    let data;
    try {
      data = await this.api.run(loadQuery(this.features));
    } catch (error) {
      this.apiFailed(error);
      return;
    }
    this.providers = new Map(data.mailProviders.map((provider) => [provider.code, provider]));
    this.tab = data.mailTab;
    this.showSignedIn(true);
    this.renderProviders();
    this.$("password-guide").href = safeUrl(this.tab.passwordHelpUrl) || this.$("password-guide").href;
    if (this.tab.settings) {
      this.fill(this.tab.settings);
    }
    this.describeProvider();
    if (this.tab.available) {
      this.unlockForm();
    } else {
      const tabs = this.tab.missing.map((code) => this.t(code)).join(", ");
      this.lockForm(this.t("unavailable", { tabs }), { checkAgain: true });
    }
    this.setStatus(announce ? el("div", { class: "ok" }, el("p", {}, this.t("signedIn"))) : null);
  }

  renderProviders() {
    const select = this.$("provider");
    const chosen = select.value;
    for (const option of [...select.options].slice(1)) {
      option.remove();
    }
    for (const provider of this.providers.values()) {
      select.append(el("option", { value: provider.code }, provider.title));
    }
    select.value = this.providers.has(chosen) ? chosen : "";
  }

  fill(settings) {
    this.$("provider").value = this.providers.has(settings.provider) ? settings.provider : "";
    this.$("smtpHost").value = settings.smtpHost;
    this.$("port").value = String(settings.port);
    this.$("useSsl").checked = settings.useSsl;
    this.$("address").value = settings.address;
    this.$("senderName").value = settings.senderName || "";
    this.$("senderEmail").value = settings.senderEmail || "";
    this.$("password").value = "";
    this.security = { port: settings.port, useSsl: settings.useSsl, security: settings.security };
    this.hasPassword = settings.hasPassword;
    this.savedAccount = { address: settings.address, smtpHost: settings.smtpHost };
    this.describePassword();
  }

  resetForm() {
    this.$("mail-form").reset();
    this.$("provider").value = "";
    this.hasPassword = false;
    this.savedAccount = null;
    this.security = null;
    this.clearMarks();
    this.describePassword();
    this.describeProvider();
    show(this.$("detect-offer"), false);
  }

  lockForm(message, { checkAgain }) {
    this.$("mail-fields").disabled = true;
    this.$("notice-text").textContent = message;
    show(this.$("check-again"), checkAgain);
    show(this.$("notice"), true);
  }

  unlockForm() {
    this.$("mail-fields").disabled = false;
    show(this.$("notice"), false);
  }

  // --- the provider and its presets ---------------------------------------------------------

  chooseProvider() {
    const provider = this.providers.get(this.$("provider").value);
    if (provider && provider.code !== "OTHER") {
      this.applyPreset(provider);
    }
    this.describeProvider();
    show(this.$("detect-offer"), false);
  }

  applyPreset(provider) {
    if (provider.smtpHost) {
      this.$("smtpHost").value = provider.smtpHost;
      this.unmark("smtpHost");
    }
    if (provider.port) {
      this.$("port").value = String(provider.port);
      this.unmark("port");
    }
    this.$("useSsl").checked = provider.useSsl;
    this.unmark("useSsl");
    this.security = provider.security
      ? { port: provider.port, useSsl: provider.useSsl, security: provider.security }
      : null;
    this.describePassword();
  }

  describeProvider() {
    const hint = this.$("provider-hint");
    hint.replaceChildren();
    const provider = this.providers.get(this.$("provider").value);
    const guideWrap = this.$("provider-guide-wrap");
    show(guideWrap, false);
    if (provider) {
      hint.append(
        el(
          "p",
          {},
          provider.code === "OTHER"
            ? this.t("otherHint")
            : this.t("presetHint", { provider: provider.title }),
        ),
      );
      if (provider.status === "OAUTH2_ONLY") {
        hint.append(el("p", { class: "warning-text" }, this.t("oauthOnly")));
      }
      const checklist = (provider.checklist || [])
        .map((item) => el("li", {}, item.url ? externalLink(item.url, item.text) || item.text : item.text));
      if (checklist.length) {
        hint.append(el("p", {}, this.t("checklist")), el("ul", {}, checklist));
      }
      const guide = safeUrl(provider.appPasswordHelpUrl);
      if (guide) {
        const link = this.$("provider-guide");
        link.href = guide;
        link.textContent = this.t("providerGuide", { provider: provider.title });
        show(guideWrap, true);
      }
    }
    const oauth =
      provider && provider.oauth2Available && this.features.has("Mutation.startMailOAuth");
    show(this.$("oauth"), Boolean(oauth));
  }

  /** A password is stored for the account the form names (same address and SMTP server). */
  passwordKept() {
    const account = this.savedAccount;
    return Boolean(
      this.hasPassword &&
        account &&
        this.$("address").value.trim().toLowerCase() === account.address.toLowerCase() &&
        this.$("smtpHost").value.trim().toLowerCase() === account.smtpHost.toLowerCase(),
    );
  }

  describePassword() {
    const kept = this.passwordKept();
    const saved = this.$("password-saved");
    saved.textContent = kept ? this.t("passwordSaved") : "";
    show(saved, kept);
    this.$("password").placeholder = kept ? "••••••••" : "";
  }

  // --- smart setup: the service from the address --------------------------------------------

  async detect() {
    const address = this.$("address").value.trim();
    const seq = ++this.detectSeq;
    show(this.$("detect-offer"), false);
    const domain = address.includes("@") ? address.split("@").pop().toLowerCase() : "";
    if (!domain) {
      return;
    }
    let suggestion = this.detectLocally(domain);
    if (this.features.has("Query.detectMailProvider")) {
      try {
        const data = await this.api.run(DETECT_QUERY, { email: address });
        suggestion = data.detectMailProvider.suggestion || suggestion;
      } catch {
        // The domain lists still answer.
      }
    }
    if (seq !== this.detectSeq || !suggestion) {
      return;
    }
    this.offer(suggestion);
  }

  detectLocally(domain) {
    for (const provider of this.providers.values()) {
      if ((provider.domains || []).includes(domain)) {
        return { provider: provider.code, smtpHost: provider.smtpHost, port: provider.port };
      }
    }
    return null;
  }

  offer(suggestion) {
    const current = this.$("provider").value;
    const provider = this.providers.get(suggestion.provider);
    const button = this.$("detect-apply");
    let apply;
    if (provider && provider.code !== "OTHER") {
      if (current === provider.code) {
        return;
      }
      this.$("detect-text").textContent = this.t("detected", { provider: provider.title });
      button.textContent = this.t("detectApply", { provider: provider.title });
      apply = () => {
        this.$("provider").value = provider.code;
        this.applyPreset(provider);
        if (suggestion.smtpHost && suggestion.port) {
          this.applyServer(suggestion);
        }
      };
    } else if (suggestion.smtpHost && suggestion.port) {
      const host = suggestion.smtpHost;
      const port = suggestion.port;
      if (this.$("smtpHost").value.trim() === host && this.$("port").value.trim() === String(port)) {
        return;
      }
      this.$("detect-text").textContent = this.t("detectedServer", { host, port });
      button.textContent = this.t("detectApplyServer", { host, port });
      apply = () => {
        if (!current) {
          this.$("provider").value = "OTHER";
        }
        this.applyServer(suggestion);
      };
    } else {
      return;
    }
    button.onclick = () => {
      apply();
      this.describeProvider();
      show(this.$("detect-offer"), false);
      this.$("provider").focus();
    };
    show(this.$("detect-offer"), true);
  }

  applyServer({ smtpHost, port, security }) {
    this.$("smtpHost").value = smtpHost;
    this.$("port").value = String(port);
    this.describePassword();
    if (security) {
      const useSsl = security !== "NONE";
      this.$("useSsl").checked = useSsl;
      this.security = { port, useSsl, security };
    }
  }

  // --- the form as it stands ----------------------------------------------------------------

  /** MailSettingsInput from the form, and the problems the API could not even be asked with. */
  settingsInput() {
    const problems = [];
    const provider = this.$("provider").value;
    if (!provider) {
      problems.push({ field: "provider", message: this.t("chooseProvider") });
    }
    const portText = this.$("port").value.trim();
    let port = null;
    if (portText) {
      port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        problems.push({ field: "port", message: this.t("portInvalid") });
      }
    }
    const useSsl = this.$("useSsl").checked;
    const input = {
      provider,
      smtpHost: this.$("smtpHost").value.trim() || null,
      port,
      useSsl,
      address: this.$("address").value.trim(),
      senderName: this.$("senderName").value.trim() || null,
      senderEmail: this.$("senderEmail").value.trim() || null,
    };
    const memo = this.security;
    if (memo && memo.port === port && memo.useSsl === useSsl && memo.security !== derivedSecurity(useSsl, port)) {
      input.security = memo.security;
    }
    // Write-only: sent only when typed; omitted, the stored password is kept.
    const password = this.$("password").value;
    if (password) {
      input.password = password;
    }
    // A service this server signs in with OAuth2, and no password typed or stored: the
    // mailbox's OAuth2 connection logs in (the API says when it is not connected yet).
    const chosen = this.providers.get(provider);
    if (
      this.features.has("MailSettingsInput.authMethod") &&
      chosen &&
      chosen.oauth2Available &&
      !password &&
      !this.passwordKept()
    ) {
      input.authMethod = "OAUTH2";
    }
    return { input, problems };
  }

  async save() {
    if (this.busy) {
      return;
    }
    this.clearMarks();
    const { input, problems } = this.settingsInput();
    if (problems.length) {
      this.inputRefused(problems, "notSaved");
      return;
    }
    const payload = await this.busyWith(this.$("save"), "saving", null, async () => {
      const data = await this.api.run(saveMutation(this.features), { input });
      return data.saveMailSettings;
    });
    if (!payload) {
      return;
    }
    if (payload.errors.length) {
      this.inputRefused(payload.errors, "notSaved");
      return;
    }
    if (payload.settings) {
      this.fill(payload.settings);
      this.describeProvider();
    }
    const blocks = [el("div", { class: "ok" }, el("p", { class: "title" }, this.t("saved")))];
    if (payload.warnings.length) {
      blocks.push(
        el(
          "div",
          { class: "warning" },
          el("p", { class: "title" }, this.t("warnings")),
          el("ul", {}, payload.warnings.map((warning) => el("li", {}, warning.message))),
        ),
      );
    }
    this.setStatus(...blocks);
  }

  async send() {
    if (this.busy) {
      return;
    }
    this.clearMarks();
    const { input, problems } = this.settingsInput();
    if (problems.length) {
      this.inputRefused(problems, "notSent");
      return;
    }
    const recipient = this.$("recipient").value.trim();
    const waiting = el("div", {}, el("p", {}, this.t("sendingWait")));
    const payload = await this.busyWith(this.$("send"), "sending", waiting, async () => {
      const data = await this.api.run(sendMutation(this.features), {
        input: { recipient, settings: input },
      });
      return data.sendTestEmail;
    });
    if (!payload) {
      return;
    }
    if (payload.errors.length) {
      const retry = payload.retryAfter ? this.t("retryAfter", { seconds: payload.retryAfter }) : null;
      this.inputRefused(payload.errors, "notSent", retry);
      return;
    }
    if (payload.delivered) {
      this.setStatus(
        el(
          "div",
          { class: "ok" },
          el("p", { class: "title" }, this.t("delivered", { recipient })),
          payload.messageId
            ? el("p", {}, `${this.t("messageId")} `, el("code", {}, payload.messageId))
            : null,
          this.transcript(payload.steps),
        ),
      );
      return;
    }
    this.deliveryFailed(payload.failure, payload.steps);
  }

  deliveryFailed(failure, steps) {
    if (!failure) {
      this.setStatus(el("div", { class: "error" }, el("p", { class: "title" }, this.t("failed"))));
      return;
    }
    const reply = failure.smtpCode || failure.smtpReply;
    this.setStatus(
      el(
        "div",
        { class: "error" },
        el("p", { class: "title" }, this.t("failed")),
        el("p", {}, failure.message),
        failure.hint ? el("p", {}, failure.hint) : null,
        reply
          ? el(
              "p",
              {},
              `${this.t("serverReply")} `,
              el("code", {}, [failure.smtpCode, failure.smtpReply].filter(Boolean).join(" ")),
            )
          : null,
        failure.helpUrl ? el("p", {}, externalLink(failure.helpUrl, this.t("help"))) : null,
        this.transcript(steps),
      ),
    );
    const field = this.controlName(failure.field);
    if (field) {
      this.mark(field, [failure.message, failure.hint].filter(Boolean).join(" "));
    }
  }

  /** The SMTP steps, when the API reports them, as a collapsed list. */
  transcript(steps) {
    if (!steps || !steps.length) {
      return null;
    }
    const statusText = { OK: this.t("stepOk"), FAILED: this.t("stepFailed"), SKIPPED: this.t("stepSkipped") };
    const items = steps.map((step) =>
      el(
        "li",
        { class: step.status === "FAILED" ? "step-failed" : null },
        `${step.name}: ${statusText[step.status] || step.status} (${step.durationMs} ms)`,
        step.smtpCode || step.smtpReply
          ? [" — ", el("code", {}, [step.smtpCode, step.smtpReply].filter(Boolean).join(" "))]
          : null,
      ),
    );
    return el("details", {}, el("summary", {}, this.t("steps")), el("ol", {}, items));
  }

  // --- OAuth2 (when the API has it) ---------------------------------------------------------

  async connectOAuth() {
    if (this.busy) {
      return;
    }
    this.clearMarks();
    const input = {
      provider: this.$("provider").value,
      address: this.$("address").value.trim(),
      returnUrl: this.win.location.href.split("#")[0],
    };
    const payload = await this.busyWith(this.$("oauth-connect"), "oauthConnecting", null, async () => {
      const data = await this.api.run(START_OAUTH_MUTATION, { input });
      return data.startMailOAuth;
    });
    if (!payload) {
      return;
    }
    if (payload.errors.length) {
      this.inputRefused(payload.errors, "notSaved");
      return;
    }
    const url = safeUrl(payload.authorizationUrl);
    if (url) {
      this.win.location.assign(url);
    }
  }

  // --- feedback -----------------------------------------------------------------------------

  /** Runs `work` with `button` showing progress; other presses are ignored until it ends. */
  async busyWith(button, labelKey, waiting, work) {
    this.busy = true;
    const buttons = [this.$("send"), this.$("save"), this.$("oauth-connect")];
    for (const other of buttons) {
      other.setAttribute("aria-disabled", "true");
    }
    const label = button.textContent;
    button.dataset.busy = "true";
    button.textContent = this.t(labelKey);
    this.$("mail-form").setAttribute("aria-busy", "true");
    if (waiting) {
      this.setStatus(waiting);
    }
    try {
      return await work();
    } catch (error) {
      this.apiFailed(error);
      return null;
    } finally {
      this.busy = false;
      for (const other of buttons) {
        other.removeAttribute("aria-disabled");
      }
      delete button.dataset.busy;
      button.textContent = label;
      this.$("mail-form").removeAttribute("aria-busy");
    }
  }

  apiFailed(error) {
    if (!(error instanceof ApiError)) {
      throw error;
    }
    if (error.kind === "unauthenticated") {
      this.setStatus(null);
      this.tokenRejected();
      return;
    }
    const text =
      error.kind === "forbidden"
        ? this.t("forbidden")
        : error.kind === "network"
          ? this.t("networkError")
          : this.t("serviceError", { message: error.message });
    const retry = error.retryAfter ? this.t("retryAfter", { seconds: error.retryAfter }) : null;
    this.setStatus(el("div", { class: "error" }, el("p", {}, text), retry ? el("p", {}, retry) : null));
  }

  /** Field errors at their fields, the rest in the status region, focus on the first field. */
  inputRefused(errors, summaryKey, extra = null) {
    const general = [];
    const marked = new Set();
    for (const error of errors) {
      const field = this.controlName(error.field);
      if (field) {
        this.mark(field, error.message);
        marked.add(field);
      } else {
        general.push(error.message);
      }
    }
    this.setStatus(
      el(
        "div",
        { class: "error" },
        el("p", { class: "title" }, marked.size ? this.t(summaryKey) : general.shift()),
        general.length ? el("ul", {}, general.map((message) => el("li", {}, message))) : null,
        extra ? el("p", {}, extra) : null,
      ),
    );
    const first = FIELDS.find((name) => marked.has(name));
    if (first) {
      this.$(first).focus();
    }
  }

  controlName(field) {
    if (!field) {
      return null;
    }
    const name = field.split(".").pop();
    if (FIELDS.includes(name)) {
      return name;
    }
    return FIELD_CONTROLS[name] || null;
  }

  mark(name, message) {
    const control = this.$(name);
    const error = this.$(`${name}-error`);
    control.setAttribute("aria-invalid", "true");
    error.textContent = error.textContent ? `${error.textContent} ${message}` : message;
  }

  unmark(name) {
    this.$(name).removeAttribute("aria-invalid");
    this.$(`${name}-error`).textContent = "";
  }

  clearMarks() {
    for (const name of FIELDS) {
      this.unmark(name);
    }
  }

  setStatus(...blocks) {
    this.$("status").replaceChildren(...blocks.filter(Boolean));
  }
}

const page = new MailTabPage(document, window);
page.start();
