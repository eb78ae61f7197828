// The operator view (admin keys): queue, workers, failed gradings, every submission.

import { getJson } from "./api.js";
import { h, notice, percent, show, visible, when } from "./dom.js";

const REFRESH_MS = 5000;

function stat(id, label, value) {
  return h("div", { class: "stat", id }, h("span", { class: "stat-value" }, String(value)), h("span", { class: "muted" }, label));
}

function rowsTable(id, rows, withError) {
  const head = ["sent", "owner", "exercise", "status", "score", withError ? "error" : "attempts"];
  return h("table", { id },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) =>
      h("tr", { dataset: { id: r.id } },
        h("td", {}, when(r.created_at)),
        h("td", {}, r.owner_name ? `${r.owner_name} (${r.owner})` : r.owner),
        h("td", {}, r.exercise),
        h("td", {}, r.status),
        h("td", {}, r.score === null ? "" : percent(r.score, r.max_score)),
        h("td", {}, withError ? visible(r.error || "") : String(r.attempts))))));
}

export async function operatorPage(main, { me, signal }) {
  if (!me.admin) {
    show(main, h("h1", {}, "Operator"), notice("error", "The operator view needs an admin key (grader keys create NAME --admin)."));
    return;
  }
  const box = h("div", { id: "operator" });
  show(main, h("h1", {}, "Operator"), box);
  for (;;) {
    const [overview, all] = await Promise.all([
      getJson("/v1/admin/overview", { signal }),
      getJson("/v1/admin/submissions?limit=50", { signal }),
    ]);
    const w = overview.workers;
    show(box,
      h("div", { class: "stats" },
        stat("queue-depth", "queued, waiting for a worker", overview.queue_depth),
        stat("workers", "workers alive", `${w.alive}/${w.size}`),
        stat("busy", "gradings running", w.busy),
        Object.entries(overview.counts).map(([status, n]) => stat(`count-${status}`, status, n))),
      h("h2", {}, "Recent grader errors"),
      overview.recent_errors.length ? rowsTable("recent-errors", overview.recent_errors, true)
        : h("p", { class: "muted", id: "recent-errors" }, "None."),
      h("h2", {}, `All submissions (${all.count}, newest first)`),
      rowsTable("all-submissions", all.data, false),
      h("p", { class: "muted" }, `updated ${when(overview.generated_at)}; refreshes every ${REFRESH_MS / 1000} s`));
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
    if (signal.aborted) return;
  }
}
