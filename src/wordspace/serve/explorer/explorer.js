/**
 * The wordspace web explorer: a word's neighbours and their 2-D map (PCA, as SVG), analogies,
 * sentence embeddings and, for classifiers, predictions, all from the /v1 JSON API of the
 * server that serves this page. Plain ES2020, nothing loaded from another host.
 */
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAP_WIDTH = 640;
const MAP_HEIGHT = 400;
const MAP_PADDING = 40;
const SUGGEST_DELAY_MS = 120;
const SUGGESTIONS = 10;
const ANALOGY_ANSWERS = 5;
const SENTENCE_NEIGHBOURS = 6;
/** A sentence's nearest words are looked for among this many most frequent words (rare
 * words are the noisiest vectors). */
const SENTENCE_VOCABULARY = 50000;

const $ = (selector) => document.querySelector(selector);
const state = { exploring: 0, suggesting: 0, suggestTimer: 0 };

/** The JSON answer of GET `path` (or POST `body` to it); an API error becomes an Error
 * holding the server's message. */
async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Error(`cannot reach the server (${error.message})`);
  }
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(answer?.error ?? `${response.status} ${response.statusText}`);
  }
  return answer;
}

/** Run `work`, showing its error (or clearing the last one) in the `.error` of `section`. */
async function guarded(section, work) {
  const shown = section.querySelector(".error");
  shown.hidden = true;
  try {
    await work();
  } catch (error) {
    shown.textContent = error.message;
    shown.hidden = false;
  }
}

/** An element named `tag` with `attributes`, children and text (`namespace` for SVG). */
function element(tag, attributes = {}, children = [], namespace = null) {
  const made = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  made.append(...children);
  return made;
}

/** A button that explores `word` when clicked. */
function wordButton(word) {
  return element("button", { type: "button", class: "word", "data-word": word }, [word]);
}

/** A result line: a label (a word button when `explorable`), its score and a score bar. */
function resultItem(label, score, explorable = true) {
  const bar = element("span", { class: "bar", style: `--score: ${Math.max(0, score)}` });
  const name = explorable ? wordButton(label) : element("span", { class: "label" }, [label]);
  return element("li", {}, [name, element("span", { class: "score" }, [score.toFixed(3)]), bar]);
}

/** Show the model's name, kind and size; offer the predict box to classifiers only. */
function showInfo(info) {
  const parts = [info.name, `${info.kind} model`, `${info.dim} dimensions`,
    `${info.vocab_size.toLocaleString("en")} words`];
  if (info.subwords) parts.push("unseen words from subwords");
  if (info.labels) parts.push(`${info.labels.length} labels`);
  $("#model").textContent = parts.join(" · ");
  $("#predict").hidden = info.kind !== "classifier";
  const mostK = String(Math.min(100, info.limits?.max_k ?? 100));
  for (const input of document.querySelectorAll("input[type=number]")) input.max = mostK;
}

/** Fill the suggestions with the vocabulary words starting with what `input` holds (a
 * moment after the last keystroke; a stale answer is dropped). */
function suggest(input) {
  clearTimeout(state.suggestTimer);
  const prefix = input.value.trim();
  if (!prefix) return;
  state.suggestTimer = setTimeout(() => guarded(input.closest("section"), async () => {
    const ticket = ++state.suggesting;
    const query = new URLSearchParams({ prefix, limit: SUGGESTIONS });
    const { words } = await api(`v1/words?${query}`);
    if (ticket !== state.suggesting) return;
    $("#suggestions").replaceChildren(...words.map((word) => new Option(word, word)));
  }), SUGGEST_DELAY_MS);
}

/** Explore `word` through the address (#word), so that back and forward work. */
function go(word) {
  const hash = encodeURIComponent(word.trim());
  if (!hash) return;
  if (location.hash.slice(1) === hash) route();
  else location.hash = hash;
}

/** Explore the word the address names, if any. */
function route() {
  const hash = location.hash.slice(1);
  if (hash) guarded($("#explore"), () => explore(decodeURIComponent(hash)));
}

/** List the neighbours of `word` with their scores and draw the map of them all. */
async function explore(word) {
  const ticket = ++state.exploring;
  $("#word").value = word;
  const k = Number($("#k").value) || 10;
  try {
    const { results } = await api("v1/similar", { positive: [word], k });
    const words = [word, ...results.map((r) => r.word)];
    const { vectors } = await api("v1/vectors", { words });
    if (ticket !== state.exploring) return;
    $("#neighbours-title").textContent = `Neighbours of “${word}”`;
    $("#neighbours").replaceChildren(...results.map((r) => resultItem(r.word, r.score)));
    drawMap(words, vectors, [1, ...results.map((r) => r.score)]);
  } catch (error) {
    if (ticket !== state.exploring) return;
    $("#neighbours-title").textContent = "Neighbours";
    $("#neighbours").replaceChildren();
    $("#map svg")?.remove();
    throw error;
  }
}

/** The dot product of two arrays. */
function dot(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Each vector's coordinates on the first two principal components of `vectors`: power
 * iteration with deflation on the Gram matrix of the centred vectors (n x n, n small). */
function principalCoordinates(vectors) {
  const n = vectors.length;
  const mean = vectors[0].map((_, j) => vectors.reduce((sum, v) => sum + v[j], 0) / n);
  const centred = vectors.map((v) => v.map((value, j) => value - mean[j]));
  const gram = centred.map((a) => centred.map((b) => dot(a, b)));
  const coordinates = vectors.map(() => [0, 0]);
  for (let axis = 0; axis < 2; axis++) {
    let u = gram.map((_, i) => Math.sin(i + 1 + axis));
    let eigenvalue = 0;
    for (let step = 0; step < 200; step++) {
      const next = gram.map((row) => dot(row, u));
      eigenvalue = Math.hypot(...next);
      if (eigenvalue < 1e-12) break;
      u = next.map((value) => value / eigenvalue);
    }
    if (eigenvalue < 1e-12) break;
    const sign = u[0] > 0 ? -1 : 1;
    u.forEach((value, i) => { coordinates[i][axis] = sign * value * Math.sqrt(eigenvalue); });
    gram.forEach((row, i) => row.forEach((_, j) => { row[j] -= eigenvalue * u[i] * u[j]; }));
  }
  return coordinates;
}

/** Where to write each word's label (x, y, text-anchor): beside its point, on the first side
 * (right, left, above, below) where it stays in the map and covers no point and no label
 * placed before it; widths are estimated from the length of the word. */
function placeLabels(words, at) {
  const taken = at.map(([x, y]) => [x - 6, y - 6, x + 6, y + 6]);
  const box = ([x, y, anchor], width) => {
    const left = { start: x, end: x - width, middle: x - width / 2 }[anchor];
    return [left, y - 12, left + width, y + 3];
  };
  const free = (b) => b[0] >= 0 && b[2] <= MAP_WIDTH && b[1] >= 0 && b[3] <= MAP_HEIGHT
    && taken.every((t) => b[2] < t[0] || b[0] > t[2] || b[3] < t[1] || b[1] > t[3]);
  return words.map((word, i) => {
    const [x, y] = at[i];
    const width = word.length * (i === 0 ? 9 : 7.4);
    const sides = [[x + 9, y + 4, "start"], [x - 9, y + 4, "end"], [x, y - 9, "middle"],
      [x, y + 19, "middle"]];
    const side = sides.find((s) => free(box(s, width))) ?? sides[x > MAP_WIDTH / 2 ? 1 : 0];
    taken.push(box(side, width));
    return side;
  });
}

/** Draw `words` (the query first) at their principal coordinates, one scale on both axes,
 * as SVG circles and labels, with a line from the query to each neighbour. */
function drawMap(words, vectors, scores) {
  const points = principalCoordinates(vectors);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys),
    Math.max(...ys)];
  const scale = Math.min((MAP_WIDTH - 2 * MAP_PADDING) / (maxX - minX || 1),
    (MAP_HEIGHT - 2 * MAP_PADDING) / (maxY - minY || 1));
  const at = points.map(([x, y]) => [
    MAP_WIDTH / 2 + (x - (minX + maxX) / 2) * scale,
    MAP_HEIGHT / 2 + (y - (minY + maxY) / 2) * scale,
  ]);
  const labels = placeLabels(words, at);
  const svg = (tag, attributes, children = []) => element(tag, attributes, children, SVG_NS);
  const edges = at.slice(1).map(([x, y]) => svg("line", {
    class: "edge", x1: at[0][0], y1: at[0][1], x2: x, y2: y,
  }));
  const marks = words.map((word, i) => {
    const [x, y, anchor] = labels[i];
    const title = svg("title", {}, [i === 0 ? word : `${word}: ${scores[i].toFixed(3)}`]);
    const opacity = (0.3 + 0.7 * Math.max(0, scores[i])).toFixed(2);
    return svg("g", { "data-word": word, class: i === 0 ? "mark query" : "mark" }, [
      svg("circle", { cx: at[i][0], cy: at[i][1], r: i === 0 ? 7 : 5, "fill-opacity": opacity },
        [title]),
      svg("text", { x, y, "text-anchor": anchor }, [word]),
    ]);
  });
  const map = svg("svg", { viewBox: `0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`, role: "img",
    "aria-label": `map of “${words[0]}” and its neighbours` }, [...edges, ...marks]);
  $("#map svg")?.remove();
  $("#map").prepend(map);
}

/** Mark every element showing `word` (list and map) as hovered. */
function highlight(word) {
  for (const marked of document.querySelectorAll(".hover")) marked.classList.remove("hover");
  if (!word) return;
  for (const shown of document.querySelectorAll(`[data-word="${CSS.escape(word)}"]`)) {
    shown.classList.add("hover");
  }
}

/** Answer the analogy form: a is to b as c is to the listed words. */
async function solveAnalogy(form) {
  const field = (name) => form.elements[name].value.trim();
  const { results } = await api("v1/analogy", {
    a: field("a"), b: field("b"), c: field("c"), method: field("method"), k: ANALOGY_ANSWERS,
  });
  $("#analogy-results").replaceChildren(...results.map((r) => resultItem(r.word, r.score)));
}

/** Embed the one or two sentences: each one's nearest words and, for two, their cosine. */
async function embedSentences(form) {
  const sentences = [form.elements.a.value.trim(), form.elements.b.value.trim()].filter(Boolean);
  if (!sentences.length) throw new Error("type a sentence first");
  const { vectors } = await api("v1/embed", { sentences });
  const norms = vectors.map((v) => Math.sqrt(dot(v, v)));
  const shown = [];
  if (vectors.length === 2) {
    const cosine = norms[0] && norms[1] ? (dot(...vectors) / (norms[0] * norms[1])).toFixed(3)
      : "none (a sentence holds no word the model knows)";
    shown.push(element("p", { class: "similarity" }, ["cosine similarity: ",
      element("strong", { id: "sentence-cosine" }, [cosine])]));
  }
  for (const [i, sentence] of sentences.entries()) {
    const quoted = element("q", {}, [sentence]);
    if (!norms[i]) {
      shown.push(element("p", {}, [quoted, " holds no word the model knows"]));
      continue;
    }
    const { results } = await api("v1/similar",
      { vector: vectors[i], k: SENTENCE_NEIGHBOURS, restrict_vocab: SENTENCE_VOCABULARY });
    shown.push(element("p", { class: "near" }, [quoted, ` (norm ${norms[i].toFixed(2)}) is near `,
      ...results.map((r) => wordButton(r.word))]));
  }
  $("#sentence-result").replaceChildren(...shown);
}

/** List the top labels of the predict box's text with their probabilities. */
async function predict(form) {
  const k = Number(form.elements.k.value) || 1;
  const { predictions } = await api("v1/predict", { texts: [form.elements.text.value], k });
  const items = predictions[0].map((p) => resultItem(p.label, p.probability, false));
  if (!items.length) items.push(element("li", {}, ["no label"]));
  $("#predictions").replaceChildren(...items);
}

/** Send each form's submission to its handler, its errors shown in its section. */
function onSubmit(selector, handler) {
  $(selector).addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(event.target.closest("section"), () => handler(event.target));
  });
}

/** Wire the forms, the word buttons and the address, then load the model's description. */
function start() {
  onSubmit("#word-form", (form) => go(form.elements.word.value));
  onSubmit("#analogy-form", solveAnalogy);
  onSubmit("#sentence-form", embedSentences);
  onSubmit("#predict-form", predict);
  document.addEventListener("input", (event) => {
    if (event.target.list?.id !== "suggestions") return;
    if (event.inputType !== "insertReplacementText") suggest(event.target);
    else if (event.target.id === "word") go(event.target.value);
  });
  document.addEventListener("click", (event) => {
    const shown = event.target.closest("[data-word]");
    if (shown) go(shown.dataset.word);
  });
  document.addEventListener("mouseover", (event) => {
    highlight(event.target.closest("[data-word]")?.dataset.word);
  });
  window.addEventListener("hashchange", route);
  guarded($("header"), async () => {
    showInfo(await api("v1/info"));
    route();
  });
}

start();
