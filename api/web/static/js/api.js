// The one way the page talks to the service: the public /v1 API, with the pasted API key in an
// Authorization header. No cookies are sent (credentials: "omit"), so nothing another site
// makes the browser send carries any authority.

const TOKEN_KEY = "hidden-grader.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An error answer of the API: its status, stable code and message. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function headers(extra) {
  const all = { Accept: "application/json", ...extra };
  const key = token();
  if (key) all.Authorization = `Bearer ${key}`;
  return all;
}

/** fetch() a /v1 path; throws ApiError for an error answer. */
export async function request(path, { method = "GET", json, extraHeaders, signal } = {}) {
  const init = { method, headers: headers(extraHeaders), credentials: "omit", cache: "no-store", signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "the service cannot be reached");
  }
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch {
      // not the API's error shape; the status says enough
    }
    throw new ApiError(response.status, error.code || `http_${response.status}`,
      error.message || response.statusText || "request failed", error.details);
  }
  return response;
}

export async function getJson(path, options) {
  return (await request(path, options)).json();
}

/** Server-sent events of a /v1 stream, read with fetch so the Authorization header goes along
 *  (EventSource cannot send it). Yields {event, data} until the stream ends. */
export async function* events(path, signal) {
  const response = await request(path, { extraHeaders: { Accept: "text/event-stream" }, signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue; // keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = text;
        if (field === "data") data.push(text);
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

/** Download one of the caller's reports as a file (fetched with the key, saved from a blob). */
export async function download(path, fallbackName) {
  const response = await request(path, { extraHeaders: { Accept: "*/*" } });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = match ? match[1] : fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
