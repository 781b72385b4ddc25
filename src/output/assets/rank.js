// The ranking of `isg search`, for index.html: the lexical terms of src/search/lexical.rs
// (words split at non-alphanumerics and camel-case humps, lower-cased, stop words and
// one-letter words dropped, Porter-stemmed as src/eval/porter.rs does, on UTF-8 bytes), BM25
// and the score of src/search/index.rs. Every arithmetic step is rounded to f32 (Math.fround)
// in Rust's order, so the scores are Rust's bit for bit given the same query vector.
var IsgRank = (function () {
  "use strict";
  var f = Math.fround;
  var ALNUM = /[\p{Alphabetic}\p{N}]/u, UPPER = /\p{Uppercase}/u, LOWER = /\p{Lowercase}/u;

  function splitCamel(word) {
    var chars = Array.from(word), parts = [], start = 0;
    for (var i = 1; i < chars.length; i++) {
      var c = chars[i], prev = chars[i - 1];
      var nextLower = i + 1 < chars.length && LOWER.test(chars[i + 1]);
      var boundary = (UPPER.test(c) && LOWER.test(prev)) || (UPPER.test(c) && UPPER.test(prev) && nextLower);
      if (boundary) { parts.push(chars.slice(start, i).join("")); start = i; }
    }
    if (start < chars.length) parts.push(chars.slice(start).join(""));
    return parts;
  }

  // --- Porter, as NLTK's default mode, on the bytes of the lower-cased word. ---
  var IRREGULAR = { sky: "sky", skies: "sky", dying: "die", lying: "lie", tying: "tie", news: "news",
    innings: "inning", inning: "inning", outings: "outing", outing: "outing", cannings: "canning",
    canning: "canning", howe: "howe", proceed: "proceed", exceed: "exceed", succeed: "succeed" };
  var enc = new TextEncoder(), dec = new TextDecoder("utf-8");
  function isVowel(c) { return c === 97 || c === 101 || c === 105 || c === 111 || c === 117; }
  function consonantFlags(w, n) {
    var flags = new Array(n);
    for (var i = 0; i < n; i++) {
      var c = w[i];
      flags[i] = isVowel(c) ? false : c === 121 ? (i === 0 || !flags[i - 1]) : true;
    }
    return flags;
  }
  function isConsonant(w, i) { return consonantFlags(w, i + 1)[i]; }
  function measure(w, n) {
    var fl = consonantFlags(w, n), m = 0;
    for (var i = 0; i + 1 < n; i++) if (!fl[i] && fl[i + 1]) m++;
    return m;
  }
  function containsVowel(w, n) {
    var fl = consonantFlags(w, n);
    for (var i = 0; i < n; i++) if (!fl[i]) return true;
    return false;
  }
  function endsWith(w, s) {
    if (s.length > w.length) return false;
    for (var i = 0; i < s.length; i++) if (w[w.length - s.length + i] !== s.charCodeAt(i)) return false;
    return true;
  }
  function ascii(s) { var a = []; for (var i = 0; i < s.length; i++) a.push(s.charCodeAt(i)); return a; }
  function replaceSuffix(w, suffix, repl) { return w.slice(0, w.length - suffix.length).concat(ascii(repl)); }
  function endsDouble(w) {
    var n = w.length;
    return n >= 2 && w[n - 1] === w[n - 2] && isConsonant(w, n - 1);
  }
  function endsCvc(w) {
    var n = w.length;
    return (n >= 3 && isConsonant(w, n - 3) && !isConsonant(w, n - 2) && isConsonant(w, n - 1) &&
      w[n - 1] !== 119 && w[n - 1] !== 120 && w[n - 1] !== 121) ||
      (n === 2 && !isConsonant(w, 0) && isConsonant(w, 1));
  }
  function holds(cond, word, stem) {
    switch (cond) {
      case "a": return true;
      case "p": return measure(stem, stem.length) > 0;
      case "g": return measure(stem, stem.length) > 1;
      case "ion": var l = stem[stem.length - 1]; return measure(stem, stem.length) > 1 && (l === 115 || l === 116);
      case "logi": return measure(word, word.length - 3) > 0;
    }
    return false;
  }
  function apply(w, rules) {
    for (var i = 0; i < rules.length; i++) {
      var r = rules[i];
      if (endsWith(w, r[0])) {
        var stem = w.slice(0, w.length - r[0].length);
        return holds(r[2], w, stem) ? stem.concat(ascii(r[1])) : w;
      }
    }
    return w;
  }
  function step1a(w) {
    if (endsWith(w, "ies") && w.length === 4) return replaceSuffix(w, "ies", "ie");
    return apply(w, [["sses", "ss", "a"], ["ies", "i", "a"], ["ss", "ss", "a"], ["s", "", "a"]]);
  }
  function step1b(w) {
    if (endsWith(w, "ied")) return w.length === 4 ? replaceSuffix(w, "ied", "ie") : replaceSuffix(w, "ied", "i");
    if (endsWith(w, "eed")) return measure(w, w.length - 3) > 0 ? replaceSuffix(w, "eed", "ee") : w;
    var s = null, sufs = ["ed", "ing"];
    for (var i = 0; i < sufs.length; i++) {
      if (endsWith(w, sufs[i])) {
        var stem = w.slice(0, w.length - sufs[i].length);
        if (containsVowel(stem, stem.length)) { s = stem; break; }
      }
    }
    if (s === null) return w;
    var pairs = [["at", "ate"], ["bl", "ble"], ["iz", "ize"]];
    for (var j = 0; j < pairs.length; j++) if (endsWith(s, pairs[j][0])) return replaceSuffix(s, pairs[j][0], pairs[j][1]);
    if (endsDouble(s)) {
      var last = s[s.length - 1];
      return (last !== 108 && last !== 115 && last !== 122) ? s.slice(0, s.length - 2).concat([last]) : s;
    }
    if (measure(s, s.length) === 1 && endsCvc(s)) return s.concat([101]);
    return s;
  }
  function step1c(w) {
    if (endsWith(w, "y")) {
      var stem = w.slice(0, w.length - 1);
      if (stem.length > 1 && isConsonant(stem, stem.length - 1)) return replaceSuffix(w, "y", "i");
    }
    return w;
  }
  var STEP2 = [["ational", "ate"], ["tional", "tion"], ["enci", "ence"], ["anci", "ance"], ["izer", "ize"],
    ["bli", "ble"], ["alli", "al"], ["entli", "ent"], ["eli", "e"], ["ousli", "ous"], ["ization", "ize"],
    ["ation", "ate"], ["ator", "ate"], ["alism", "al"], ["iveness", "ive"], ["fulness", "ful"],
    ["ousness", "ous"], ["aliti", "al"], ["iviti", "ive"], ["biliti", "ble"], ["fulli", "ful"]].map(function (r) { return [r[0], r[1], "p"]; });
  STEP2.push(["logi", "log", "logi"]);
  function step2(w) {
    if (endsWith(w, "alli") && measure(w, w.length - 4) > 0) return step2(replaceSuffix(w, "alli", "al"));
    return apply(w, STEP2);
  }
  var STEP3 = [["icate", "ic", "p"], ["ative", "", "p"], ["alize", "al", "p"], ["iciti", "ic", "p"],
    ["ical", "ic", "p"], ["ful", "", "p"], ["ness", "", "p"]];
  var STEP4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou",
    "ism", "ate", "iti", "ous", "ive", "ize"].map(function (s) { return [s, "", s === "ion" ? "ion" : "g"]; });
  function step5a(w) {
    if (endsWith(w, "e")) {
      var stem = w.slice(0, w.length - 1), m = measure(stem, stem.length);
      if (m > 1 || (m === 1 && !endsCvc(stem))) return stem;
    }
    return w;
  }
  function step5b(w) {
    if (endsWith(w, "ll") && measure(w, w.length - 1) > 1) return w.slice(0, w.length - 1);
    return w;
  }
  function stem(word) {
    var w = word.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(IRREGULAR, w)) return IRREGULAR[w];
    if (Array.from(word).length <= 2) return w;
    var s = Array.from(enc.encode(w));
    s = step5b(step5a(apply(apply(step2(step1c(step1b(step1a(s)))), STEP3), STEP4)));
    return dec.decode(new Uint8Array(s));
  }

  /** The terms of `text`, in order, with repeats (src/search/lexical.rs `terms`). */
  function terms(text, stop) {
    var out = [], word = "";
    var words = [];
    for (var ch of text) {
      if (ALNUM.test(ch)) word += ch; else { words.push(word); word = ""; }
    }
    words.push(word);
    for (var i = 0; i < words.length; i++) {
      var parts = splitCamel(words[i]);
      for (var j = 0; j < parts.length; j++) {
        var lower = parts[j].toLowerCase();
        if (Array.from(lower).length < 2 || /^[0-9]+$/.test(lower)) continue;
        if (stop.has(lower)) continue;
        out.push(stem(lower));
      }
    }
    return out;
  }

  /** An index over `data` (the object search-index.js assigns); `vectors` a Float32Array. */
  function Index(data) {
    var r = data.ranking;
    this.docs = data.docs;
    this.dims = data.dims;
    this.stop = new Set(r.stop);
    this.lexical = f(r.lexical); this.dirPrior = f(r.dir_prior);
    this.k1 = f(r.k1); this.b = f(r.b);
    this.df = new Map();
    this.lengths = new Float32Array(this.docs.length);
    this.tf = [];
    var sum = 0;
    for (var i = 0; i < this.docs.length; i++) {
      var d = this.docs[i], m = new Map();
      for (var t in d.t) {
        m.set(t, f(d.t[t]));
        this.df.set(t, (this.df.get(t) || 0) + 1);
      }
      this.tf.push(m);
      this.lengths[i] = f(d.len);
      sum = f(sum + this.lengths[i]);
    }
    this.avgLen = this.docs.length ? Math.max(f(sum / f(this.docs.length)), 1) : 1;
    this.vectors = null;
    if (data.vectors) {
      var bytes = IsgRank.base64(data.vectors);
      this.vectors = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    }
  }

  /** BM25 of every doc for the query terms (each distinct term once). */
  Index.prototype.bm25 = function (query) {
    var n = f(this.docs.length), out = new Float32Array(this.docs.length), seen = new Set();
    var k1 = this.k1, b = this.b;
    for (var qi = 0; qi < query.length; qi++) {
      var t = query[qi];
      if (seen.has(t)) continue;
      seen.add(t);
      var df = this.df.get(t);
      if (df === undefined) continue;
      var dff = f(df);
      var idf = f(Math.log(f(f(f(f(n - dff) + 0.5) / f(dff + 0.5)) + 1)));
      for (var i = 0; i < this.docs.length; i++) {
        var tf = this.tf[i].get(t);
        if (tf === undefined) continue;
        var norm = f(k1 * f(f(1 - b) + f(f(b * this.lengths[i]) / this.avgLen)));
        out[i] = f(out[i] + f(f(f(idf * tf) * f(k1 + 1)) / f(tf + norm)));
      }
    }
    return out;
  };

  /**
   * The `k` best docs for `query`, best first, as `{doc, index, score}`: with `qv` (the query's
   * unit vector) cosine + lexical, else the lexical score alone (docs without a word in common
   * left out). A line shown twice is listed once.
   */
  Index.prototype.search = function (query, qv, k) {
    var lex = this.bm25(terms(query, this.stop)), best = 0;
    for (var i = 0; i < lex.length; i++) best = Math.max(best, lex[i]);
    var scored = [], d = this.dims, useVec = !!(qv && this.vectors);
    for (var j = 0; j < this.docs.length; j++) {
      if (!useVec && !(lex[j] > 0)) continue;
      var cos = 0;
      if (useVec) {
        var base = j * d;
        for (var c = 0; c < d; c++) cos = f(cos + f(this.vectors[base + c] * qv[c]));
      }
      var l = best > 0 ? f(lex[j] / best) : 0;
      var prior = this.docs[j].k === "dir" ? this.dirPrior : 0;
      scored.push({ score: f(f(cos + f(this.lexical * l)) - prior), index: j });
    }
    scored.sort(function (a, b) { return b.score - a.score || a.index - b.index; });
    var out = [], seen = new Set();
    for (var s = 0; s < scored.length && out.length < k; s++) {
      var doc = this.docs[scored[s].index], key = doc.p + "\u0000" + doc.s;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ doc: doc, index: scored[s].index, score: scored[s].score });
    }
    return out;
  };

  /** Standard base64 to bytes. */
  function base64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  return { terms: terms, stem: stem, Index: Index, base64: base64 };
})();
