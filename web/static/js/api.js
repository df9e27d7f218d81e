// Talking to mailtab: GraphQL over POST to this origin, the bearer token, the page's language.

/** A request that did not give usable data: `kind` says what the page should tell the user. */
export class ApiError extends Error {
  constructor(kind, message = "", retryAfter = null) {
    super(message || kind);
    this.kind = kind; // "unauthenticated" | "forbidden" | "network" | "service"
    this.retryAfter = retryAfter;
  }
}

const TOKEN_KEY = "mailtab.token";

/** The token lives in this tab's sessionStorage (memory only where storage is refused). */
export class TokenStore {
  constructor(storage) {
    this.storage = storage;
    this.memory = null;
  }

  get() {
    try {
      return this.storage.getItem(TOKEN_KEY) || this.memory;
    } catch {
      return this.memory;
    }
  }

  set(token) {
    this.memory = token;
    try {
      this.storage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage refused (private mode of an embedded view): the token lives until reload.
    }
  }

  clear() {
    this.memory = null;
    try {
      this.storage.removeItem(TOKEN_KEY);
    } catch {
      // Nothing stored.
    }
  }
}

export class Api {
  constructor({ endpoint, lang, tokens }) {
    this.endpoint = endpoint;
    this.lang = lang;
    this.tokens = tokens;
  }

  /** The operation's `data`; an ApiError when the service refused or could not be reached. */
  async run(query, variables = {}) {
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/json",
      "Accept-Language": this.lang,
    };
    const token = this.tokens.get();
    if (token) {
      headers.Authorization = `Bearer ${token}`;
    }
    let response;
    try {
      response = await fetch(this.endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new ApiError("network");
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const errors = (body && body.errors) || [];
    const first = errors[0] || {};
    const code = first.extensions && first.extensions.code;
    if (response.status === 401 || code === "UNAUTHENTICATED") {
      throw new ApiError("unauthenticated", first.message);
    }
    if (code === "FORBIDDEN") {
      throw new ApiError("forbidden", first.message);
    }
    if (!response.ok || errors.length || !body || !body.data) {
      const retryAfter = Number(response.headers.get("Retry-After")) || null;
      throw new ApiError("service", first.message || `HTTP ${response.status}`, retryAfter);
    }
    return body.data;
  }
}

/** Which optional API features this service has (see web/page.py). */
export async function loadFeatures(url) {
  try {
    const response = await fetch(url, { credentials: "omit", cache: "no-store" });
    if (!response.ok) {
      return new Set();
    }
    const body = await response.json();
    return new Set(Array.isArray(body.features) ? body.features : []);
  } catch {
    return new Set();
  }
}
