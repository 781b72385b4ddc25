// index.html's search box. It loads search-index.js and search-model.js from the page's own
// folder with <script src> (a file:// page cannot fetch() them) and ranks the lines as
// `isg search` does: by meaning and words when both are there, by words alone when the lines
// have no vectors or the encoder is not there, and, when the index is missing or was written
// for other lines, it filters the tree by substring as pages before it did. The best lines
// are listed above the tree (#results) and marked in it, their folders opened, the rest
// hidden. `index.html#q=WORDS` opens with that search.
function IsgPageSearch(ctx) {
  "use strict";
  var TOP = 10;
  var state = { mode: "loading", why: "", index: null, model: null };
  var nodes = ctx.nodes, els = ctx.els, dets = ctx.dets, parent = ctx.parent;
  var hay = nodes.map(function (n) { return (n.s + "\n" + n.i.join("\n") + "\n" + n.p).toLowerCase(); });
  var timer = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setMode(mode, why) {
    state.mode = mode;
    state.why = why || "";
    var say = {
      hybrid: "Ranked by meaning and words, as `isg search` ranks them.",
      lexical: "Ranked by words only: " + state.why,
      substring: "Filtering by substring: " + state.why
    }[mode] || "";
    ctx.mode.textContent = say;
    ctx.mode.className = "mode " + mode;
    run();
  }

  /** Marks the entries `hit` (a Set of node indices) and opens their folders. */
  function mark(hit, active) {
    var keep = new Array(nodes.length);
    hit.forEach(function (i) {
      for (var j = i; j !== undefined; j = parent[j]) keep[j] = true;
    });
    for (var k = 0; k < nodes.length; k++) {
      if (!els[k]) continue;
      els[k].classList.toggle("hit", hit.has(k));
      els[k].classList.toggle("hidden", active && !keep[k]);
      if (active && dets[k]) dets[k].open = !!keep[k];
    }
  }

  function reveal(n) {
    for (var j = n; j !== undefined; j = parent[j]) if (dets[j]) dets[j].open = true;
    if (els[n]) {
      els[n].classList.remove("hidden");
      els[n].scrollIntoView({ block: "center" });
    }
  }

  function showResults(hits) {
    var ol = ctx.results;
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    hits.forEach(function (h, r) {
      var d = h.doc, li = el("li", "result " + d.k);
      li.setAttribute("data-rank", String(r + 1));
      li.setAttribute("data-kind", d.k);
      li.setAttribute("data-path", d.p);
      if (d.l) li.setAttribute("data-lines", d.l);
      li.setAttribute("data-score", h.score.toFixed(4));
      li.setAttribute("data-node", "n" + d.n);
      var a = el("a", "name", d.p + (d.l ? ":" + d.l : ""));
      a.href = "#n" + d.n;
      a.addEventListener("click", function (e) { e.preventDefault(); reveal(d.n); });
      li.appendChild(a);
      li.appendChild(el("span", "span", d.k + ", " + h.score.toFixed(3)));
      li.appendChild(el("span", "line", d.s));
      ol.appendChild(li);
    });
  }

  function run() {
    var text = ctx.input.value.trim();
    if (text === "") {
      mark(new Set(), false);
      showResults([]);
      ctx.count.textContent = "";
      return;
    }
    if (state.mode === "loading") {
      ctx.count.textContent = "Loading the search index…";
      return;
    }
    if (state.mode === "substring") {
      var lower = text.toLowerCase(), found = new Set();
      for (var i = 0; i < nodes.length; i++) if (hay[i].indexOf(lower) >= 0) found.add(i);
      showResults([]);
      mark(found, true);
      ctx.count.textContent = found.size + (found.size === 1 ? " match" : " matches");
      return;
    }
    var t0 = performance.now();
    var qv = state.model ? state.model.embed(text) : null;
    var hits = state.index.search(text, qv, TOP);
    var ms = performance.now() - t0;
    showResults(hits);
    mark(new Set(hits.map(function (h) { return h.doc.n; })), true);
    ctx.count.setAttribute("data-ms", ms.toFixed(1));
    ctx.count.textContent = hits.length + (hits.length === 1 ? " result" : " results") +
      " in " + Math.round(ms) + " ms";
  }

  function load(src, ok, fail) {
    var s = document.createElement("script");
    s.src = src;
    s.onload = ok;
    s.onerror = fail;
    document.head.appendChild(s);
  }

  ctx.input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, state.model ? 150 : 0);
  });
  var m = /[#&]q=([^&]*)/.exec(location.hash);
  if (m) ctx.input.value = decodeURIComponent(m[1].replace(/\+/g, " "));

  var setup = "run `isg setup`, then `isg summarize` again";
  load("search-index.js", function () {
    var data = globalThis.ISG_SEARCH_INDEX;
    if (!data || data.format !== 1 || data.key !== ctx.key) {
      setMode("substring", "search-index.js was written for other lines; run `isg summarize` again.");
      return;
    }
    try {
      state.index = new IsgRank.Index(data);
    } catch (e) {
      setMode("substring", "search-index.js could not be read (" + e + ").");
      return;
    }
    if (!data.vectors) {
      setMode("lexical", "the lines have no sentence vectors yet (the embedding model is not set up; " + setup + ").");
      return;
    }
    load("search-model.js", function () {
      var model = globalThis.ISG_SEARCH_MODEL;
      if (!model || model.format !== 1 || model.encoder !== data.encoder) {
        setMode("lexical", "search-model.js is not the encoder of these vectors; " + setup + ".");
        return;
      }
      try {
        state.model = new IsgEncoder.Model(model);
      } catch (e) {
        setMode("lexical", "search-model.js could not be read (" + e + ").");
        return;
      }
      setMode("hybrid");
    }, function () {
      setMode("lexical", "the sentence encoder search-model.js is not here; " + setup + ".");
    });
  }, function () {
    setMode("substring", "search-index.js is not here; run `isg summarize` again.");
  });
}
