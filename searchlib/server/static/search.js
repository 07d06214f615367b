// The search page: reads q, page and filters from the address, asks /api/search, and
// draws the hits (snippet_html is escaped by the server; everything else is set as text).
"use strict";
const PAGE_SIZE = 10;
const $ = (id) => document.getElementById(id);

function state() {
  const params = new URLSearchParams(location.search);
  return { q: params.get("q") || "", page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1),
           filters: params.getAll("filter") };
}

function go(next) {
  const params = new URLSearchParams();
  if (next.q) params.set("q", next.q);
  if (next.page > 1) params.set("page", String(next.page));
  for (const filter of next.filters) params.append("filter", filter);
  history.pushState(null, "", "?" + params.toString());
  run();
}

// A keyword value as a query term: quoted, with its quotes and backslashes escaped.
function term(field, value) {
  return field + ':"' + String(value).replace(/["\\]/g, "\\$&") + '"';
}

async function facetFields() {
  if (facetFields.known === undefined) {
    const info = await (await fetch("/api/info")).json();
    facetFields.known = Object.entries(info.fields || {})
      .filter(([, field]) => field.kind === "keyword" || field.kind === "boolean").map(([name]) => name);
  }
  return facetFields.known;
}

async function run() {
  const current = state();
  $("q").value = current.q;
  $("hits").replaceChildren();
  $("facets").replaceChildren();
  $("suggestion").hidden = true;
  $("previous").hidden = $("next").hidden = true;
  if (!current.q.trim()) { $("status").textContent = ""; return; }
  const params = new URLSearchParams({ q: current.q, limit: String(PAGE_SIZE),
                                       offset: String((current.page - 1) * PAGE_SIZE), max_field_chars: "300" });
  if (current.filters.length) params.set("filter", current.filters.map((f) => "+" + f).join(" "));
  for (const field of await facetFields()) params.append("facet", field);
  $("status").textContent = "Searching…";
  const response = await fetch("/api/search?" + params.toString());
  const body = await response.json();
  if (!response.ok) { $("status").textContent = body.error ? body.error.message : "The search failed."; return; }
  draw(current, body);
}

function draw(current, body) {
  const first = body.offset + 1, last = body.offset + body.hits.length;
  const documents = body.total === 1 ? "1 matching document" : `${body.total} matching documents`;
  $("status").textContent = !body.hits.length ? `No matches (${body.total} in all)`
                          : first === 1 && last === body.total ? documents : `${first}–${last} of ${documents}`;
  if (body.suggestion) {
    $("suggested").textContent = body.suggestion;
    $("suggestion").hidden = false;
  }
  for (const hit of body.hits) {
    const item = document.createElement("li");
    const title = document.createElement("h3");
    title.className = "title";
    title.textContent = hit.fields.title || hit.fields.name || hit.id;
    const snippet = document.createElement("p");
    snippet.className = "snippet";
    snippet.innerHTML = hit.snippet_html || "";  // escaped by the server, <mark> around matches
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${hit.id} · score ${hit.score.toFixed(3)}`;
    item.append(title, snippet, meta);
    $("hits").append(item);
  }
  $("previous").hidden = current.page <= 1;
  $("next").hidden = last >= body.total;
  for (const [name, facet] of Object.entries(body.facets || {})) {
    if (!facet.counts.length) continue;
    const heading = document.createElement("h2");
    heading.textContent = name;
    const list = document.createElement("ul");
    for (const count of facet.counts) {
      const filter = term(name, count.value);
      const active = current.filters.includes(filter);
      const link = document.createElement("a");
      link.href = "#";
      link.className = active ? "active" : "";
      link.textContent = String(count.value) + " ";
      const number = document.createElement("span");
      number.className = "count";
      number.textContent = String(count.count);
      link.append(number);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const filters = active ? current.filters.filter((f) => f !== filter) : [...current.filters, filter];
        go({ q: current.q, page: 1, filters });
      });
      const item = document.createElement("li");
      item.append(link);
      list.append(item);
    }
    $("facets").append(heading, list);
  }
}

$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  go({ q: $("q").value, page: 1, filters: [] });
});
$("suggested").addEventListener("click", (event) => {
  event.preventDefault();
  go({ ...state(), q: $("suggested").textContent, page: 1 });
});
$("previous").addEventListener("click", () => { const s = state(); go({ ...s, page: s.page - 1 }); });
$("next").addEventListener("click", () => { const s = state(); go({ ...s, page: s.page + 1 }); });
window.addEventListener("popstate", run);
run();
