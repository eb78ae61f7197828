// Building the page from data without ever parsing data as HTML: every string becomes a text
// node, every attribute is set by name, and handlers are functions (no inline script).

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTML element: h("a", {href: "#/"}, "text", otherNode). */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, for the inline charts. */
export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replace everything inside `node` with `children`. */
export function show(node, ...children) {
  node.replaceChildren();
  return fill(node, {}, children);
}

// C0 controls (but tab and newline), DEL, C1 controls, and the bidirectional overrides that
// could make text read differently from what it is.
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const C0_NAMES = ["NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT",
  "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM",
  "SUB", "ESC", "FS", "GS", "RS", "US"];

function controlName(code) {
  if (code < 0x20) return C0_NAMES[code];
  if (code === 0x7f) return "DEL";
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** `text` as nodes to append: text nodes, with each control character shown as a marked-up
 *  name (ESC, BEL, U+202E ...) that no printed text can imitate. Nothing is parsed as HTML. */
export function visible(text) {
  const parts = [];
  let last = 0;
  const source = String(text ?? "");
  for (const match of source.matchAll(CONTROLS)) {
    if (match.index > last) parts.push(source.slice(last, match.index));
    const code = match[0].charCodeAt(0);
    parts.push(h("span", { class: "ctl", title: `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}` }, controlName(code)));
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return parts;
}

/** A date and time in the reader's locale. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

/** "92%" from a score and its maximum. */
export function percent(score, max) {
  if (score === null || score === undefined || !max) return "";
  return `${Math.round((100 * score) / max)}%`;
}

/** A message box (error or note) with text only. */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A number of points as people write it: 1.5, 0.08, 100. */
export function num(value) {
  return String(Math.round(Number(value) * 100) / 100);
}
