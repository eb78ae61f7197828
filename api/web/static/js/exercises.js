// The exercise list, and one exercise: statement, editor, visible tests, Submit.

import { getJson, request } from "./api.js";
import { h, notice, show } from "./dom.js";

// The one place HTML is inserted: the statement, rendered by the server with raw HTML escaped.
// Under the page's CSP (require-trusted-types-for 'script'), any other innerHTML would throw.
const statementPolicy = window.trustedTypes
  ? window.trustedTypes.createPolicy("statement", { createHTML: (html) => html })
  : { createHTML: (html) => html };

const INDENT = "    ";

export async function exerciseList(main, { signal }) {
  const page = await getJson("/v1/exercises", { signal });
  const rows = page.data.map((e) =>
    h("li", { class: "card exercise" },
      h("h2", {}, h("a", { href: `#/exercises/${e.slug}`, dataset: { slug: e.slug } }, e.title)),
      h("p", {}, e.summary),
      h("p", { class: "muted" }, `${e.difficulty} · submit ${e.module}`)));
  show(main, h("h1", {}, "Exercises"),
    page.count ? h("ul", { class: "cards", id: "exercises" }, rows) : notice("note", "No exercises are installed."));
}

function draftKey(slug) {
  return `hidden-grader.draft.${slug}`;
}

/** A textarea that indents with Tab; Escape then Tab moves focus on (no keyboard trap). */
function editor(text, onChange) {
  const area = h("textarea", {
    id: "editor", class: "editor", spellcheck: "false", autocapitalize: "off",
    autocomplete: "off", wrap: "off", "aria-label": "Your solution",
    "aria-describedby": "editor-help",
  });
  area.value = text;
  let escaped = false;
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      escaped = true;
      return;
    }
    if (event.key === "Tab" && !escaped && !event.ctrlKey && !event.altKey && !event.metaKey) {
      event.preventDefault();
      const { selectionStart: start, selectionEnd: end, value } = area;
      if (event.shiftKey) {
        const lineStart = value.lastIndexOf("\n", start - 1) + 1;
        if (value.startsWith(INDENT, lineStart)) {
          area.setRangeText("", lineStart, lineStart + INDENT.length, "preserve");
        }
      } else {
        area.setRangeText(INDENT, start, end, "end");
      }
      onChange(area.value);
    }
    escaped = false;
  });
  area.addEventListener("input", () => onChange(area.value));
  return area;
}

export async function exercisePage(main, { param: slug, signal }) {
  const [exercise, statement] = await Promise.all([
    getJson(`/v1/exercises/${slug}`, { signal }),
    getJson(`/v1/exercises/${slug}/statement`, { signal }),
  ]);
  const draft = sessionStorage.getItem(draftKey(slug));
  const area = editor(draft ?? exercise.stub, (text) => sessionStorage.setItem(draftKey(slug), text));
  const status = h("div", { id: "submit-status" });
  const submit = h("button", { type: "submit", id: "submit" }, "Submit");
  const reset = h("button", {
    type: "button", class: "secondary", id: "reset",
    onclick: () => {
      if (!confirm("Replace your code with the stub?")) return;
      area.value = exercise.stub;
      sessionStorage.removeItem(draftKey(slug));
    },
  }, "Reset to the stub");

  const form = h("form", { id: "solve", class: "solve" },
    h("div", { class: "editor-head" },
      h("h2", {}, h("code", {}, exercise.module)),
      h("span", { id: "editor-help", class: "muted" }, "Tab indents; Esc then Tab leaves the editor.")),
    area,
    h("div", { class: "actions" }, submit, reset),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    show(status, h("p", { class: "muted" }, "Sending…"));
    try {
      const response = await request("/v1/submissions", {
        method: "POST",
        json: { exercise: slug, files: { [exercise.module]: area.value } },
        extraHeaders: { "Idempotency-Key": crypto.randomUUID() },
      });
      const created = await response.json();
      location.hash = `#/submissions/${created.id}`;
    } catch (err) {
      submit.disabled = false;
      const retry = err.status === 429 ? " Try again in a little while." : "";
      show(status, notice("error", `${err.message}${retry}`));
    }
  });

  const body = h("div", { class: "statement", id: "statement" });
  body.innerHTML = statementPolicy.createHTML(statement.html);
  const tests = Object.entries(exercise.visible_tests).map(([name, text]) =>
    h("details", { class: "visible-test" }, h("summary", {}, name), h("pre", {}, h("code", {}, text))));
  const categories = Object.entries(exercise.categories).map(([name, points]) => `${name} ${points}`).join(" · ");

  show(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Exercises"), " / ", exercise.title),
    h("div", { class: "exercise-layout" },
      h("section", { class: "card" },
        h("p", { class: "muted" }, `${exercise.difficulty} · hidden tests: ${categories}`),
        body,
        h("h2", {}, "Visible tests"),
        h("p", { class: "muted" }, "Run them with ", h("code", {}, `grader start ${slug} DIR`),
          " and ", h("code", {}, "grader test DIR"), "; the score comes from the hidden tests."),
        tests),
      h("section", { class: "card" }, form,
        h("p", {}, h("a", { href: `#/mine?exercise=${slug}` }, "My submissions for this exercise")))));
}
