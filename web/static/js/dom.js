// Building the page's DOM from data without HTML strings: the page runs under Trusted Types,
// where innerHTML and friends are refused, so nothing from the API can become markup.

/** `el("p", { class: "hint" }, "text", child)`: an element with attributes and children. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false || child === "") {
      continue;
    }
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** `url` if it is an http(s) address, else null: links from data never run script. */
export function safeUrl(url) {
  if (!url) {
    return null;
  }
  try {
    const parsed = new URL(url, document.baseURI);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A link that opens outside the page, or nothing when the address is unusable. */
export function externalLink(url, text) {
  const href = safeUrl(url);
  if (!href) {
    return null;
  }
  return el("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
}

export function show(element, visible) {
  element.hidden = !visible;
}
