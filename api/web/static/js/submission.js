// One submission: live progress from the event stream, then the public report.

import { ApiError, download, events, getJson } from "./api.js";
import { h, notice, num, percent, show, visible, when } from "./dom.js";

const FINAL = new Set(["completed", "error"]);
const FORMATS = [["json", "JSON"], ["junit", "JUnit XML"], ["markdown", "Markdown"], ["text", "Text"]];

function progressText(view) {
  if (view.status === "queued") {
    return view.queue_position ? `Queued: position ${view.queue_position} in the queue` : "Queued";
  }
  if (view.status === "running") return "Running the hidden tests…";
  if (view.status === "error") return "The grader failed";
  return "Graded";
}

function categoryRows(report) {
  return report.categories.map((c) =>
    h("tr", { dataset: { category: c.name } },
      h("th", { scope: "row" }, c.name),
      h("td", {}, `${c.passed}/${c.total}`),
      h("td", {}, h("meter", { min: 0, max: c.max_score || 1, value: c.score }), " ",
        `${num(c.score)}/${num(c.max_score)}`)));
}

function failingTests(report) {
  const failing = report.tests.filter((t) => t.status !== "passed");
  if (!failing.length) return h("p", { id: "failing-none" }, "Every hidden test passed.");
  return h("ol", { id: "failing", class: "failing" }, failing.map((t) =>
    h("li", { class: "test" },
      h("div", {},
        h("strong", { class: "test-name" }, t.name ?? "(a hidden test)"),
        " ", h("span", { class: `badge ${t.status}` }, t.status),
        " ", h("span", { class: "muted" }, `${t.category} · ${num(t.points)}/${num(t.max_points)} points`)),
      t.message ? h("pre", { class: "message" }, visible(t.message)) : null,
      t.hint ? h("p", { class: "hint" }, "Expected: ", visible(t.hint)) : null)));
}

function reportView(view) {
  const report = view.report;
  const downloads = FORMATS.map(([fmt, label]) =>
    h("button", {
      type: "button", class: "secondary", dataset: { format: fmt },
      onclick: () => download(`/v1/submissions/${view.id}/report/${fmt}`, `report.${fmt}`)
        .catch((err) => alert(err.message)),
    }, label));
  return h("div", { id: "report" },
    h("div", { class: "score-line" },
      h("span", { id: "score", class: `score ${report.status}` }, percent(report.score, report.max_score)),
      h("span", {}, `${num(report.score)} of ${num(report.max_score)} points`),
      h("span", { id: "result", class: `badge ${report.status}` }, report.status)),
    report.message ? h("pre", { class: "message", id: "run-message" }, visible(report.message)) : null,
    h("h2", {}, "Categories"),
    h("table", { id: "categories" },
      h("thead", {}, h("tr", {}, h("th", {}, "category"), h("th", {}, "passed"), h("th", {}, "points"))),
      h("tbody", {}, categoryRows(report))),
    h("h2", {}, "Tests that did not pass"),
    failingTests(report),
    h("h2", {}, "Output of your code"),
    h("p", { class: "muted" }, "What your code printed (the end of it, if long), as plain text; control characters are shown by name, e.g. ",
      h("span", { class: "ctl" }, "ESC"), "."),
    // Text only, never parsed: whatever the submission printed stays inert.
    h("pre", { id: "output", class: "output" }, report.output ? visible(report.output) : "(no output)"),
    h("div", { class: "actions", id: "downloads" }, h("span", { class: "muted" }, "Download the report:"), downloads),
    h("p", { class: "muted" }, `grader ${report.grader_version} · ${report.mode}`,
      report.sandbox ? ` (${report.sandbox})` : "", ` · ${report.duration.toFixed(2)} s · visibility ${report.visibility}`));
}

function draw(box, view) {
  const final = FINAL.has(view.status);
  show(box,
    h("p", { id: "progress", class: `progress ${view.status}`, dataset: { status: view.status } },
      final ? null : h("span", { class: "spinner", "aria-hidden": "true" }), progressText(view)),
    view.status === "error" ? notice("error", view.error || "grading failed") : null,
    view.report ? reportView(view) : null);
}

/** Follow the event stream until the submission is final; long-poll if the stream breaks. */
async function follow(box, view, signal) {
  try {
    for await (const message of events(`/v1/submissions/${view.id}/events`, signal)) {
      if (message.event !== "status") continue;
      view = JSON.parse(message.data);
      draw(box, view);
      if (FINAL.has(view.status)) return;
    }
  } catch (err) {
    if (signal.aborted || (err instanceof ApiError && err.status === 404)) throw err;
  }
  while (!FINAL.has(view.status) && !signal.aborted) {
    view = await getJson(`/v1/submissions/${view.id}?wait=25`, { signal });
    draw(box, view);
  }
}

export async function submissionPage(main, { param: id, signal }) {
  let view;
  try {
    view = await getJson(`/v1/submissions/${id}`, { signal });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      show(main, h("h1", {}, "Submission"),
        notice("error", "No such submission for this key."), h("a", { href: "#/mine" }, "My submissions"));
      return;
    }
    throw err;
  }
  const box = h("div", { id: "submission", dataset: { id: view.id } });
  show(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/mine" }, "My submissions"), " / ", view.id),
    h("h1", {}, "Submission to ", h("a", { href: `#/exercises/${view.exercise}` }, view.exercise)),
    h("p", { class: "muted" }, `sent ${when(view.created_at)}`,
      view.attempts > 1 ? ` · graded ${view.attempts} times (restarts)` : ""),
    box);
  draw(box, view);
  if (!FINAL.has(view.status)) await follow(box, view, signal);
}
