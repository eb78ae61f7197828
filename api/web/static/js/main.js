// The page's router and sign-in. Views live at #/..., each drawn from the /v1 API.

import { ApiError, forgetToken, getJson, setToken, token } from "./api.js";
import { h, notice, show } from "./dom.js";
import { exerciseList, exercisePage } from "./exercises.js";
import { submissionPage } from "./submission.js";
import { mySubmissions } from "./mine.js";
import { operatorPage } from "./admin.js";

const main = document.getElementById("main");
let me = null; // {id, name, admin, open_mode} once signed in
let current = null; // the AbortController of the view on screen

const ROUTES = [
  [/^#?\/?$/, "exercises", () => exerciseList],
  [/^#\/exercises\/([a-z0-9][a-z0-9-]*)$/, "exercises", () => exercisePage],
  [/^#\/submissions\/([A-Za-z0-9-]{1,64})$/, "mine", () => submissionPage],
  [/^#\/mine$/, "mine", () => mySubmissions],
  [/^#\/admin$/, "admin", () => operatorPage],
];

function route(hash) {
  const [path, query = ""] = hash.split("?");
  for (const [pattern, section, view] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { section, view: view(), param: match[1], query: new URLSearchParams(query) };
  }
  return null;
}

/** Who the key (or open mode) is; null when the service wants a key we do not have. */
async function whoAmI() {
  try {
    return await getJson("/v1/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

function drawHeader() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.hidden = !me;
  document.getElementById("nav-admin").hidden = !(me && me.admin);
  if (!me) {
    show(who);
    return;
  }
  const label = me.open_mode && !token() ? "open mode (no key needed)" : `signed in as ${me.name}`;
  const signOut = h("button", { type: "button", class: "link", id: "sign-out", onclick: signOutNow }, "Sign out");
  show(who, h("span", { id: "who-name" }, label), token() ? signOut : null);
}

function signOutNow() {
  forgetToken();
  me = null;
  render();
}

function signInForm(message) {
  const input = h("input", {
    type: "password", id: "token", name: "token", autocomplete: "off", spellcheck: "false",
    placeholder: "gk_...", required: true, "aria-describedby": "token-help",
  });
  const status = h("div", { id: "sign-in-status" }, message ? notice("error", message) : null);
  const form = h("form", { id: "sign-in", class: "card narrow" },
    h("h1", {}, "Sign in"),
    h("label", { for: "token" }, "API key"),
    input,
    h("p", { id: "token-help", class: "muted" },
      "Paste the key from ", h("code", {}, "grader keys create NAME"),
      ". It stays in this tab only (sessionStorage) and is sent to this service alone."),
    h("button", { type: "submit" }, "Sign in"),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    try {
      me = await whoAmI();
    } catch (err) {
      me = null;
      show(status, notice("error", err.message));
      return;
    }
    if (!me) {
      forgetToken();
      show(status, notice("error", "That key is unknown or revoked."));
      return;
    }
    render();
  });
  show(main, form);
  input.focus();
}

async function render() {
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  if (!me) {
    try {
      me = await whoAmI();
    } catch (err) {
      show(main, notice("error", err.message));
      return;
    }
  }
  drawHeader();
  if (!me) {
    signInForm(token() ? "That key is unknown or revoked." : "");
    if (token()) forgetToken();
    return;
  }
  const found = route(location.hash);
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.classList.toggle("active", Boolean(found) && link.dataset.nav === found.section);
  }
  if (!found) {
    show(main, notice("error", "There is no such page."), h("a", { href: "#/" }, "Exercises"));
    return;
  }
  show(main, h("p", { class: "muted" }, "Loading…"));
  try {
    await found.view(main, { param: found.param, query: found.query, me, signal });
  } catch (err) {
    if (err.name === "AbortError" || signal.aborted) return;
    if (err instanceof ApiError && err.status === 401) {
      forgetToken();
      me = null;
      render();
      return;
    }
    show(main, notice("error", err.message), h("p", {}, h("a", { href: "#/" }, "Back to the exercises")));
  }
}

window.addEventListener("hashchange", render);
render();
