// My submissions: newest first, filtered by exercise, and each exercise's score over time.

import { getJson } from "./api.js";
import { h, notice, num, percent, show, svg, when } from "./dom.js";

const PAGE = 50;
const W = 360;
const H = 120;
const PAD = 28;

/** An inline SVG line chart of the scores (in percent) of one exercise's graded submissions. */
function chart(slug, points) {
  const step = points.length > 1 ? (W - 2 * PAD) / (points.length - 1) : 0;
  const x = (i) => PAD + (points.length > 1 ? i * step : (W - 2 * PAD) / 2);
  const y = (p) => H - PAD / 2 - (p / 100) * (H - PAD);
  const grid = [0, 50, 100].map((p) => [
    svg("line", { x1: PAD, x2: W - PAD / 2, y1: y(p), y2: y(p), class: "grid" }),
    svg("text", { x: PAD - 4, y: y(p) + 4, class: "axis", "text-anchor": "end" }, `${p}`),
  ]);
  const line = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const dots = points.map((p, i) =>
    svg("circle", { cx: x(i), cy: y(p.value), r: 3.5, class: p.value >= 100 ? "dot full" : "dot" },
      svg("title", {}, `${when(p.at)}: ${Math.round(p.value)}%`)));
  return h("figure", { class: "chart", dataset: { exercise: slug } },
    svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
      "aria-label": `${slug}: score of each graded submission, oldest first` },
      grid, points.length > 1 ? svg("polyline", { points: line, class: "line" }) : null, dots),
    h("figcaption", {}, `${slug}: ${points.length} graded, best ${Math.round(Math.max(...points.map((p) => p.value)))}%`));
}

function charts(rows) {
  const byExercise = new Map();
  for (const row of [...rows].reverse()) { // oldest first
    if (row.status !== "completed" || row.score === null || !row.max_score) continue;
    const list = byExercise.get(row.exercise) || [];
    list.push({ at: row.created_at, value: (100 * row.score) / row.max_score });
    byExercise.set(row.exercise, list);
  }
  if (!byExercise.size) return null;
  return h("section", { id: "charts", class: "charts" },
    [...byExercise].map(([slug, points]) => chart(slug, points)));
}

function table(rows) {
  return h("table", { id: "my-submissions" },
    h("thead", {}, h("tr", {}, ["sent", "exercise", "status", "result", "score", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) =>
      h("tr", { dataset: { id: r.id } },
        h("td", {}, when(r.created_at)),
        h("td", {}, r.exercise),
        h("td", {}, r.status),
        h("td", {}, r.result ? h("span", { class: `badge ${r.result}` }, r.result) : ""),
        h("td", {}, r.score === null ? "" : `${percent(r.score, r.max_score)} (${num(r.score)}/${num(r.max_score)})`),
        h("td", {}, h("a", { href: `#/submissions/${r.id}` }, "open"))))));
}

export async function mySubmissions(main, { query, signal }) {
  const exercise = query.get("exercise") || "";
  const catalogue = await getJson("/v1/exercises", { signal });
  const filter = h("select", { id: "filter", "aria-label": "Exercise" },
    h("option", { value: "" }, "all exercises"),
    catalogue.data.map((e) => h("option", { value: e.slug, selected: e.slug === exercise }, e.title)));
  filter.addEventListener("change", () => {
    location.hash = filter.value ? `#/mine?exercise=${encodeURIComponent(filter.value)}` : "#/mine";
  });

  const rows = [];
  const more = h("button", { type: "button", class: "secondary", id: "older" }, "Older");
  const list = h("div", {});
  const chartBox = h("div", {});
  async function load() {
    const params = new URLSearchParams({ limit: PAGE, offset: rows.length });
    if (exercise) params.set("exercise", exercise);
    const page = await getJson(`/v1/submissions?${params}`, { signal });
    rows.push(...page.data);
    show(list, rows.length ? table(rows) : notice("note", "No submissions yet."));
    show(chartBox, charts(rows));
    more.hidden = rows.length >= page.count;
  }
  more.addEventListener("click", () => load().catch((err) => show(list, notice("error", err.message))));
  show(main,
    h("h1", {}, "My submissions"),
    h("div", { class: "actions" }, h("label", { for: "filter" }, "Show "), filter),
    chartBox, list, more);
  await load();
}
