#include "heed/outputs/attention_page_template.h"

namespace heed {

// clang-format off
const char *const kAttentionPageTemplate = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>heed · attention</title>
<style>
:root { --fg: #1d2330; --muted: #5d6678; --line: #d8dde6; --panel: #f4f6f9; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fff; }
header { padding: 14px 24px 10px; border-bottom: 1px solid var(--line); }
h1 { font-size: 17px; margin: 0 0 6px; font-weight: 650; }
h1 span { color: var(--muted); font-weight: 400; }
.texts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
.texts dt { color: var(--muted); }
.texts dd { margin: 0; }
.texts mark { background: #dbe8fb; color: inherit; border-radius: 3px; padding: 0 2px; }
.controls { display: flex; flex-wrap: wrap; gap: 10px 20px; align-items: center; padding: 10px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
.controls label { display: inline-flex; gap: 7px; align-items: center; color: var(--muted); }
.controls .hidden { display: none; }
#sentence { max-width: 28em; }
select { font: inherit; color: var(--fg); padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.seg { display: inline-flex; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; background: #fff; }
.seg button { font: inherit; color: var(--fg); background: #fff; border: 0; border-right: 1px solid var(--line); padding: 3px 10px; cursor: pointer; }
.seg button:last-child { border-right: 0; }
.seg button.on { background: var(--accent); color: #fff; }
main { padding: 14px 24px 24px; }
.caption { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; margin-bottom: 10px; }
.caption .what { font-weight: 600; }
.caption .axes { color: var(--muted); }
.legend { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
.legend canvas { border: 1px solid var(--line); }
.maps { display: flex; flex-wrap: wrap; gap: 12px 14px; align-items: flex-start; }
.maps.table { display: grid; }
.thumb { cursor: pointer; text-align: center; font-size: 11px; color: var(--muted); }
.thumb canvas { display: block; border: 1px solid var(--line); }
.thumb:hover canvas { border-color: var(--accent); }
.rowhead { font-size: 12px; color: var(--muted); align-self: center; text-align: right; padding-right: 4px; white-space: nowrap; }
.empty { color: var(--muted); font-style: italic; }
#tooltip { position: fixed; pointer-events: none; display: none; z-index: 10; background: rgba(22, 26, 36, 0.95); color: #fff; padding: 6px 9px; border-radius: 6px; font-size: 12px; line-height: 1.5; white-space: nowrap; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
#tooltip .k { color: #aab4c8; }
</style>
</head>
<body>
<header>
  <h1>Attention <span id="subtitle"></span></h1>
  <dl class="texts" id="texts"></dl>
</header>
<div class="controls">
  <label id="sentence-box">Sentence <select id="sentence"></select></label>
  <label>Attention <span class="seg" id="kind"></span></label>
  <label>View <select id="view">
    <option value="mean">mean of all layers and heads</option>
    <option value="head">one head</option>
    <option value="layer-mean">mean of a layer's heads</option>
    <option value="layer">all heads of a layer</option>
    <option value="all">all layers and heads</option>
  </select></label>
  <label id="layer-box">Layer <select id="layer"></select></label>
  <label id="head-box">Head <select id="head"></select></label>
  <label>Tokens <span class="seg" id="units"></span></label>
  <label>Colours <span class="seg" id="scale"></span></label>
</div>
<main>
  <div class="caption"><span class="what" id="what"></span><span class="axes" id="axes"></span><span class="legend" id="legend"></span></div>
  <div class="maps" id="maps"></div>
</main>
<div id="tooltip"></div>
<script type="application/json" id="heed-data">@HEED_DATA@</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("heed-data").textContent);
const $ = (id) => document.getElementById(id);
const KIND_ORDER = ["cross", "encoder", "decoder"];
const KIND_NAMES = { cross: "cross-attention", encoder: "encoder self-attention", decoder: "decoder self-attention" };
const AXIS_NAMES = { source: "source", target: "target", decoder_input: "decoder input" };
const state = { sentence: 0, kind: null, view: "mean", layer: 0, head: 0, units: "pieces", scale: "max" };
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';

for (const s of data.sentences)
  for (const m of Object.values(s.maps)) m.w = Float32Array.from(m.weights);

// Sequential palette, white to dark blue (ColorBrewer "Blues").
const STOPS = [[255, 255, 255], [222, 235, 247], [158, 202, 225], [66, 146, 198], [8, 81, 156], [8, 38, 90]];
function colour(t) {
  t = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(t)), f = t - i;
  const c = STOPS[i].map((a, k) => Math.round(a + (STOPS[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

const sentence = () => data.sentences[state.sentence];
const currentMap = () => sentence().maps[state.kind];

// The mean over the given layers and heads, as {rows, cols, v, rowLabels, colLabels}.
function matrix(map, layers, heads) {
  const [, H, Q, K] = map.shape;
  const v = new Float32Array(Q * K);
  for (const l of layers)
    for (const h of heads) {
      const off = (l * H + h) * Q * K;
      for (let i = 0; i < Q * K; i++) v[i] += map.w[off + i];
    }
  const n = layers.length * heads.length;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  const q = sentence().tokens[map.queries], k = sentence().tokens[map.keys];
  const m = { rows: Q, cols: K, v, rowLabels: q.pieces, colLabels: k.pieces };
  return state.units === "words" ? toWords(m, q, k) : m;
}

// Words as heed aligns them: a key word gets the mass of its pieces (special
// pieces dropped, rows renormalised), a query word the mean of its pieces' rows.
function toWords(m, q, k) {
  const R = q.words.length, C = k.words.length;
  const v = new Float32Array(R * C), count = new Array(R).fill(0);
  for (let i = 0; i < m.rows; i++) {
    const r = q.piece_word[i];
    if (r < 0) continue;
    const mass = new Float64Array(C);
    let total = 0;
    for (let j = 0; j < m.cols; j++) {
      const c = k.piece_word[j];
      if (c < 0) continue;
      mass[c] += m.v[i * m.cols + j];
      total += m.v[i * m.cols + j];
    }
    for (let c = 0; c < C; c++) v[r * C + c] += total > 0 ? mass[c] / total : 1 / C;
    count[r]++;
  }
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) v[r * C + c] = count[r] ? v[r * C + c] / count[r] : 0;
  return { rows: R, cols: C, v, rowLabels: q.words, colLabels: k.words };
}

function range(n) { return Array.from({ length: n }, (_, i) => i); }
function maxOf(m) { let x = 0; for (const a of m.v) x = Math.max(x, a); return x > 0 ? x : 1; }
function scaleMax(m) { return state.scale === "one" ? 1 : maxOf(m); }

const tooltip = $("tooltip");
function escapeHtml(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}
function showTooltip(event, m, r, c, title) {
  const map = currentMap();
  tooltip.innerHTML =
    (title ? `<div><b>${escapeHtml(title)}</b></div>` : "") +
    `<div><span class="k">${AXIS_NAMES[map.keys]}:</span> ${escapeHtml(m.colLabels[c])} <span class="k">#${c}</span></div>` +
    `<div><span class="k">${AXIS_NAMES[map.queries]}:</span> ${escapeHtml(m.rowLabels[r])} <span class="k">#${r}</span></div>` +
    `<div><span class="k">weight:</span> ${m.v[r * m.cols + c].toFixed(4)}</div>`;
  tooltip.style.display = "block";
  const pad = 14, w = tooltip.offsetWidth, h = tooltip.offsetHeight;
  let x = event.clientX + pad, y = event.clientY + pad;
  if (x + w > window.innerWidth) x = event.clientX - w - pad;
  if (y + h > window.innerHeight) y = event.clientY - h - pad;
  tooltip.style.left = x + "px";
  tooltip.style.top = y + "px";
}
function hideTooltip() { tooltip.style.display = "none"; }

function setupCanvas(canvas, width, height) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.ceil(width * dpr);
  canvas.height = Math.ceil(height * dpr);
  canvas.style.width = width + "px";
  canvas.style.height = height + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

// Draws a token label left-aligned at (x, y), its SentencePiece word-start
// mark muted so the text stands out; returns its width (only measures when
// `measureOnly`).
function label(ctx, text, x, y, highlighted, measureOnly) {
  ctx.font = (highlighted ? "bold " : "") + FONT;
  const mark = text.startsWith("\u2581") ? "\u2581" : "";
  const rest = text.slice(mark.length);
  const markWidth = mark ? ctx.measureText(mark).width : 0;
  if (!measureOnly) {
    ctx.textAlign = "left";
    if (mark) {
      ctx.fillStyle = highlighted ? "#f4a373" : "#a9b1c0";
      ctx.fillText(mark, x, y);
    }
    ctx.fillStyle = highlighted ? "#e8590c" : "#1d2330";
    ctx.fillText(rest, x + markWidth, y);
  }
  return markWidth + ctx.measureText(rest).width;
}

// The big map, with token labels: columns (keys) on top, rows (queries) on the left.
function heatmap(m) {
  const canvas = document.createElement("canvas");
  const measure = canvas.getContext("2d");
  measure.font = FONT;
  const textWidth = (labels) => labels.reduce((w, s) => Math.max(w, measure.measureText(s).width), 0);
  const angle = Math.PI / 3; // column labels rise at 60 degrees
  const colText = textWidth(m.colLabels);
  const left = Math.ceil(textWidth(m.rowLabels)) + 12;
  const top = Math.ceil(colText * Math.sin(angle)) + 14;
  const right = Math.ceil(colText * Math.cos(angle)) + 8;
  const room = Math.max(320, Math.min(960, window.innerWidth - 60 - left - right));
  const cell = Math.max(14, Math.min(56, Math.floor(room / Math.max(m.cols, 1))));
  const showValues = cell >= 34;
  const width = left + m.cols * cell + right, height = top + m.rows * cell + 4;
  const vmax = scaleMax(m);
  let hover = null;

  function draw() {
    const ctx = setupCanvas(canvas, width, height);
    ctx.font = FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (let r = 0; r < m.rows; r++)
      for (let c = 0; c < m.cols; c++) {
        const value = m.v[r * m.cols + c], t = value / vmax;
        ctx.fillStyle = colour(t);
        ctx.fillRect(left + c * cell, top + r * cell, cell, cell);
        if (showValues && value >= 0.005) {
          ctx.fillStyle = t > 0.62 ? "#ffffff" : "#4a5366"; // white only on dark blues
          ctx.fillText(value.toFixed(2).replace(/^0/, ""), left + c * cell + cell / 2, top + r * cell + cell / 2);
        }
      }
    ctx.strokeStyle = "#d8dde6";
    ctx.lineWidth = 1;
    ctx.strokeRect(left - 0.5, top - 0.5, m.cols * cell + 1, m.rows * cell + 1);
    if (hover) {
      ctx.strokeStyle = "#e8590c";
      ctx.lineWidth = 2;
      ctx.strokeRect(left + hover.c * cell + 1, top + hover.r * cell + 1, cell - 2, cell - 2);
    }
    ctx.textBaseline = "middle";
    for (let r = 0; r < m.rows; r++) {
      const width = label(ctx, m.rowLabels[r], 0, 0, hover && hover.r === r, true);
      label(ctx, m.rowLabels[r], left - 6 - width, top + r * cell + cell / 2, hover && hover.r === r);
    }
    for (let c = 0; c < m.cols; c++) {
      ctx.save();
      ctx.translate(left + c * cell + cell / 2, top - 6);
      ctx.rotate(-angle);
      label(ctx, m.colLabels[c], 0, 0, hover && hover.c === c);
      ctx.restore();
    }
  }
  draw();
  canvas.addEventListener("mousemove", (e) => {
    const box = canvas.getBoundingClientRect();
    const c = Math.floor((e.clientX - box.left - left) / cell), r = Math.floor((e.clientY - box.top - top) / cell);
    const inside = r >= 0 && r < m.rows && c >= 0 && c < m.cols;
    const next = inside ? { r, c } : null;
    if (JSON.stringify(next) !== JSON.stringify(hover)) { hover = next; draw(); }
    if (inside) showTooltip(e, m, r, c); else hideTooltip();
  });
  canvas.addEventListener("mouseleave", () => { hover = null; draw(); hideTooltip(); });
  return canvas;
}

// A small map without labels for the grids; a click opens it as one head.
function thumbnail(m, title, size, onOpen) {
  const box = document.createElement("div");
  box.className = "thumb";
  const canvas = document.createElement("canvas");
  const cell = Math.max(2, Math.floor(size / Math.max(m.rows, m.cols, 1)));
  const ctx = setupCanvas(canvas, m.cols * cell, m.rows * cell);
  const vmax = scaleMax(m);
  for (let r = 0; r < m.rows; r++)
    for (let c = 0; c < m.cols; c++) {
      ctx.fillStyle = colour(m.v[r * m.cols + c] / vmax);
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }
  canvas.addEventListener("mousemove", (e) => {
    const b = canvas.getBoundingClientRect();
    const c = Math.floor((e.clientX - b.left) / cell), r = Math.floor((e.clientY - b.top) / cell);
    if (r >= 0 && r < m.rows && c >= 0 && c < m.cols) showTooltip(e, m, r, c, title); else hideTooltip();
  });
  canvas.addEventListener("mouseleave", hideTooltip);
  box.addEventListener("click", () => { hideTooltip(); onOpen(); });
  box.appendChild(canvas);
  const label = document.createElement("div");
  label.textContent = title;
  box.appendChild(label);
  return box;
}

function legend(vmax) {
  const el = $("legend");
  el.textContent = "";
  const canvas = document.createElement("canvas");
  const ctx = setupCanvas(canvas, 120, 10);
  for (let x = 0; x < 120; x++) { ctx.fillStyle = colour(x / 119); ctx.fillRect(x, 0, 1, 10); }
  const lo = document.createElement("span"), hi = document.createElement("span");
  lo.textContent = "0";
  hi.textContent = vmax === null ? "max of each map" : vmax.toFixed(vmax >= 0.1 ? 2 : 4);
  el.append(lo, canvas, hi);
}

function fillSelect(select, labels, prefix) {
  select.textContent = "";
  labels.forEach((label, i) => {
    const o = document.createElement("option");
    o.value = i;
    o.textContent = /^\d+$/.test(label) ? label : label + " (" + prefix + ")";
    select.appendChild(o);
  });
}

function segmented(el, options, key) {
  el.textContent = "";
  for (const [value, text] of options) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.className = state[key] === value ? "on" : "";
    b.addEventListener("click", () => { state[key] = value; refresh(); });
    el.appendChild(b);
  }
}

function header() {
  const s = sentence();
  const parts = s.sentence >= 0 ? data.sentences.filter((t) => t.index === s.index && t.hypothesis === 0).length : 0;
  $("subtitle").textContent = s.sentence >= 0
    ? `· line ${s.index}, sentence ${s.sentence + 1} of ${parts}` + (s.hypothesis > 0 ? `, hypothesis ${s.hypothesis}` : "")
    : data.sentences.length > 1 || s.hypothesis > 0
    ? `· sentence ${s.index}` + (s.hypothesis > 0 ? `, hypothesis ${s.hypothesis}` : "") : "";
  const texts = $("texts");
  texts.textContent = "";
  const row = (name, text) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = text;
    texts.append(dt, dd);
    return dd;
  };
  if (s.sentence >= 0 && s.line !== undefined) {
    // The whole line, this sentence marked: spans count code points, as Array.from does.
    const chars = Array.from(s.line), dd = row("line", "");
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(s.span[0], s.span[1]).join("");
    dd.append(chars.slice(0, s.span[0]).join(""), mark, chars.slice(s.span[1]).join(""));
  }
  row("source", s.source || s.tokens.source.words.join(" "));
  row("translation", s.translation || s.tokens.target.words.join(" "));
}

function refresh() {
  const s = sentence();
  const kinds = KIND_ORDER.filter((k) => k in s.maps);
  if (!kinds.includes(state.kind)) state.kind = kinds[0] || null;
  header();
  segmented($("kind"), kinds.map((k) => [k, k]), "kind");
  segmented($("units"), [["pieces", "pieces"], ["words", "words"]], "units");
  segmented($("scale"), [["max", "0 – max"], ["one", "0 – 1"]], "scale");
  const maps = $("maps");
  maps.textContent = "";
  maps.className = "maps";
  maps.style.gridTemplateColumns = "";
  if (!state.kind) {
    $("what").textContent = "";
    $("axes").textContent = "";
    $("legend").textContent = "";
    maps.innerHTML = '<div class="empty">No attention was recorded for this sentence.</div>';
    return;
  }
  const map = currentMap();
  const [L, H] = map.shape;
  state.layer = Math.min(state.layer, L - 1);
  state.head = Math.min(state.head, H - 1);
  if ($("layer").options.length !== L || $("layer").dataset.key !== map.layers.join()) {
    fillSelect($("layer"), map.layers, "layers");
    $("layer").dataset.key = map.layers.join();
  }
  if ($("head").options.length !== H || $("head").dataset.key !== map.heads.join()) {
    fillSelect($("head"), map.heads, "heads");
    $("head").dataset.key = map.heads.join();
  }
  $("layer").value = state.layer;
  $("head").value = state.head;
  $("view").value = state.view;
  $("layer-box").classList.toggle("hidden", !["head", "layer", "layer-mean"].includes(state.view));
  $("head-box").classList.toggle("hidden", state.view !== "head");
  const units = state.units === "words" ? "words" : "pieces";
  $("axes").textContent = `rows: ${AXIS_NAMES[map.queries]} ${units} · columns: ${AXIS_NAMES[map.keys]} ${units}`;
  const open = (l, h) => () => { state.view = "head"; state.layer = l; state.head = h; refresh(); };
  const plural = (n, what) => `${n} ${what}${n > 1 ? "s" : ""}`;
  const name = (l, h) => `layer ${map.layers[l]} · head ${map.heads[h]}`;
  const single = {
    mean: () => [matrix(map, range(L), range(H)), `mean of ${plural(L, "layer")} × ${plural(H, "head")}`],
    "layer-mean": () => [matrix(map, [state.layer], range(H)), `layer ${map.layers[state.layer]}, mean of ${plural(H, "head")}`],
    head: () => [matrix(map, [state.layer], [state.head]), name(state.layer, state.head)],
  };
  if (state.view in single) {
    const [m, what] = single[state.view]();
    $("what").textContent = KIND_NAMES[state.kind] + ", " + what;
    legend(scaleMax(m));
    maps.appendChild(heatmap(m));
    return;
  }
  legend(state.scale === "one" ? 1 : null);
  if (state.view === "layer") {
    $("what").textContent = `${KIND_NAMES[state.kind]}, all heads of layer ${map.layers[state.layer]}`;
    const perRow = Math.min(H, 4);
    const size = Math.max(120, Math.min(260, Math.floor((window.innerWidth - 60) / perRow) - 24));
    for (let h = 0; h < H; h++)
      maps.appendChild(thumbnail(matrix(map, [state.layer], [h]), name(state.layer, h), size, open(state.layer, h)));
    return;
  }
  $("what").textContent = `${KIND_NAMES[state.kind]}, all ${plural(L, "layer")} × ${plural(H, "head")}`;
  maps.className = "maps table";
  maps.style.gridTemplateColumns = `max-content repeat(${H}, max-content)`;
  const size = Math.max(72, Math.min(130, Math.floor(1000 / H)));
  for (let l = 0; l < L; l++) {
    const head = document.createElement("div");
    head.className = "rowhead";
    head.textContent = "layer " + map.layers[l];
    maps.appendChild(head);
    for (let h = 0; h < H; h++)
      maps.appendChild(thumbnail(matrix(map, [l], [h]), "head " + map.heads[h], size, open(l, h)));
  }
}

const select = $("sentence");
const short = (text) => text.length > 60 ? text.slice(0, 57) + "…" : text;
let group = null; // the sentences of a line split into sentences share an <optgroup>
data.sentences.forEach((s, i) => {
  const o = document.createElement("option");
  o.value = i;
  const text = s.source || s.tokens.source.words.join(" ");
  const label = s.sentence >= 0 ? `${s.index}.${s.sentence}` : `${s.index}`;
  o.textContent = `${label}${s.hypothesis > 0 ? "-" + s.hypothesis : ""}: ${short(text)}`;
  if (s.sentence >= 0) {
    if (!group || group.dataset.index !== String(s.index)) {
      group = document.createElement("optgroup");
      group.dataset.index = String(s.index);
      group.label = `line ${s.index}: ${short(s.line !== undefined ? s.line : text)}`;
      select.appendChild(group);
    }
    group.appendChild(o);
  } else {
    group = null;
    select.appendChild(o);
  }
});
$("sentence-box").classList.toggle("hidden", data.sentences.length < 2);
select.addEventListener("change", () => { state.sentence = +select.value; refresh(); });
$("view").addEventListener("change", (e) => { state.view = e.target.value; refresh(); });
$("layer").addEventListener("change", (e) => { state.layer = +e.target.value; refresh(); });
$("head").addEventListener("change", (e) => { state.head = +e.target.value; refresh(); });
// A URL hash such as #view=all&kind=encoder&units=words opens the page in that state.
for (const [key, value] of new URLSearchParams(location.hash.slice(1))) {
  if (!(key in state)) continue;
  state[key] = typeof state[key] === "number" ? +value || 0 : value;
}
state.sentence = Math.max(0, Math.min(state.sentence, data.sentences.length - 1));
select.value = state.sentence;
if (data.sentences.length === 0) document.querySelector("main").innerHTML = '<div class="empty">No sentences.</div>';
else refresh();
</script>
</body>
</html>
)HTML";
// clang-format on

} // namespace heed
