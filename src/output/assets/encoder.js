// The sentence encoder of `isg search` for index.html: the BERT WordPiece tokenizer as
// Hugging Face's `tokenizers` runs all-MiniLM-L6-v2 (special tokens matched in the raw text;
// control characters dropped, whitespace to spaces, CJK ideographs spaced, NFD with
// non-spacing marks dropped, lower-cased one code point at a time; split at whitespace and
// punctuation; greedy longest-first word pieces; cut to `max_tokens` with [CLS] and [SEP]),
// using the character classes search-model.js carries from the Rust side, then the encoder of
// src/convert/bert.rs on int8 weights with one scale per row: embeddings, layer norm, per layer
// 12-head self-attention and an erf-GELU feed-forward block with residual layer norms, the mean
// over the tokens, L2-normalized.
var IsgEncoder = (function () {
  "use strict";

  function inRanges(r, cp) {
    var lo = 0, hi = r.length / 2 - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (cp < r[2 * mid]) hi = mid - 1;
      else if (cp > r[2 * mid + 1]) lo = mid + 1;
      else return true;
    }
    return false;
  }
  function isChinese(cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
      (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }

  /** The tokenizer of search-model.js's `tokenizer` object. */
  function Tokenizer(t) {
    this.t = t;
    this.vocab = new Map();
    for (var i = 0; i < t.vocab.length; i++) this.vocab.set(t.vocab[i], i);
    this.unk = this.vocab.get(t.unk);
    // Longest first, so at one position the longest special token wins.
    this.added = t.added.slice().sort(function (a, b) { return b[0].length - a[0].length; });
  }

  Tokenizer.prototype.normalize = function (s) {
    var t = this.t, out = "";
    for (var ch of s) {
      var cp = ch.codePointAt(0);
      if (t.clean_text) {
        var ws = cp === 9 || cp === 10 || cp === 13 || inRanges(t.ws, cp);
        var control = !(cp === 9 || cp === 10 || cp === 13) && inRanges(t.other, cp);
        if (cp === 0 || cp === 0xFFFD || control) continue;
        if (ws) ch = " ";
      }
      if (t.chinese && isChinese(cp)) out += " " + ch + " "; else out += ch;
    }
    if (t.strip_accents) {
      var nfd = out.normalize("NFD"), kept = "";
      for (var c of nfd) if (!inRanges(t.mn, c.codePointAt(0))) kept += c;
      out = kept;
    }
    if (t.lowercase) {
      var low = "";
      for (var l of out) low += l.toLowerCase();
      out = low;
    }
    return out;
  };

  /** Words and punctuation marks of normalized text. */
  Tokenizer.prototype.pretokenize = function (s) {
    var t = this.t, words = [], cur = "";
    for (var ch of s) {
      var cp = ch.codePointAt(0);
      if (inRanges(t.ws, cp)) {
        if (cur) words.push(cur);
        cur = "";
      } else if (inRanges(t.punct, cp)) {
        if (cur) words.push(cur);
        words.push(ch);
        cur = "";
      } else {
        cur += ch;
      }
    }
    if (cur) words.push(cur);
    return words;
  };

  Tokenizer.prototype.wordpiece = function (word, out) {
    var chars = Array.from(word);
    if (chars.length > this.t.max_word_chars) { out.push(this.unk); return; }
    var pieces = [], start = 0;
    while (start < chars.length) {
      var end = chars.length, found = -1;
      while (start < end) {
        var sub = chars.slice(start, end).join("");
        if (start > 0) sub = this.t.prefix + sub;
        var id = this.vocab.get(sub);
        if (id !== undefined) { found = id; break; }
        end--;
      }
      if (found < 0) { out.push(this.unk); return; }
      pieces.push(found);
      start = end;
    }
    for (var i = 0; i < pieces.length; i++) out.push(pieces[i]);
  };

  /** The ids the encoder reads for `text`: [CLS], at most max_tokens - 2 pieces, [SEP]. */
  Tokenizer.prototype.encode = function (text, maxTokens) {
    var ids = [], seg = "", i = 0;
    var self = this;
    function flush() {
      if (!seg) return;
      var words = self.pretokenize(self.normalize(seg));
      for (var w = 0; w < words.length; w++) self.wordpiece(words[w], ids);
      seg = "";
    }
    while (i < text.length) {
      var hit = null;
      for (var a = 0; a < this.added.length; a++) {
        if (text.startsWith(this.added[a][0], i) && this.added[a][0].length > 0) { hit = this.added[a]; break; }
      }
      if (hit) { flush(); ids.push(hit[1]); i += hit[0].length; } else { seg += text[i]; i++; }
    }
    flush();
    var room = Math.max(0, maxTokens - 2);
    if (ids.length > room) ids = ids.slice(0, room);
    return [this.t.cls].concat(ids, [this.t.sep]);
  };

  // Abramowitz and Stegun 7.1.26 (error below 1.5e-7).
  function erf(x) {
    var s = x < 0 ? -1 : 1;
    x = Math.abs(x);
    var t = 1 / (1 + 0.3275911 * x);
    var y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return s * y;
  }

  /** The model of search-model.js's object. */
  function Model(m) {
    this.m = m;
    this.cfg = m.config;
    this.tokenizer = new Tokenizer(m.tokenizer);
    var bytes = IsgRank.base64(m.data), buf = bytes.buffer, w = {};
    for (var name in m.tensors) {
      var at = m.tensors[name], n = at.shape.reduce(function (a, b) { return a * b; }, 1);
      if (at.type === "f32") {
        w[name] = new Float32Array(buf, bytes.byteOffset + at.offset, n);
      } else {
        w[name] = {
          rows: at.shape[0], cols: at.shape[1],
          s: new Float32Array(buf, bytes.byteOffset + at.offset, at.shape[0]),
          q: new Int8Array(buf, bytes.byteOffset + at.q, n)
        };
      }
    }
    this.w = w;
  }

  // y[t, o] = x[t, :] · W[o, :] · scale[o] + b[o]; four tokens at a time share each weight
  // load.
  function linear(x, T, W, b) {
    var nIn = W.cols, nOut = W.rows, y = new Float32Array(T * nOut), q = W.q, s = W.s;
    for (var o = 0; o < nOut; o++) {
      var base = o * nIn, so = s[o], bo = b[o], t = 0, i, w;
      for (; t + 3 < T; t += 4) {
        var x0 = t * nIn, x1 = x0 + nIn, x2 = x1 + nIn, x3 = x2 + nIn, a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (i = 0; i < nIn; i++) {
          w = q[base + i];
          a0 += x[x0 + i] * w; a1 += x[x1 + i] * w; a2 += x[x2 + i] * w; a3 += x[x3 + i] * w;
        }
        y[t * nOut + o] = a0 * so + bo;
        y[(t + 1) * nOut + o] = a1 * so + bo;
        y[(t + 2) * nOut + o] = a2 * so + bo;
        y[(t + 3) * nOut + o] = a3 * so + bo;
      }
      for (; t < T; t++) {
        var xb = t * nIn, acc = 0;
        for (i = 0; i < nIn; i++) acc += x[xb + i] * q[base + i];
        y[t * nOut + o] = acc * so + bo;
      }
    }
    return y;
  }

  function layerNorm(x, T, h, g, b, eps) {
    for (var t = 0; t < T; t++) {
      var base = t * h, mean = 0, v = 0, i;
      for (i = 0; i < h; i++) mean += x[base + i];
      mean /= h;
      for (i = 0; i < h; i++) { var d = x[base + i] - mean; v += d * d; }
      var inv = 1 / Math.sqrt(v / h + eps);
      for (i = 0; i < h; i++) x[base + i] = (x[base + i] - mean) * inv * g[i] + b[i];
    }
  }

  /** Runs the encoder on token ids; returns the unit sentence vector. */
  Model.prototype.run = function (ids) {
    var c = this.cfg, w = this.w, h = c.hidden, T = ids.length, heads = c.heads, hd = h / heads;
    var x = new Float32Array(T * h), t, i;
    for (t = 0; t < T; t++) {
      var wr = ids[t] * h, ws = w.word.s[ids[t]], ps = w.pos.s[t], pr = t * h;
      for (i = 0; i < h; i++) x[t * h + i] = w.word.q[wr + i] * ws + w.pos.q[pr + i] * ps + w.type0[i];
    }
    layerNorm(x, T, h, w["emb.ln.g"], w["emb.ln.b"], c.eps);
    var scale = 1 / Math.sqrt(hd), p = new Float64Array(T);
    for (var l = 0; l < c.layers; l++) {
      var L = "L" + l + ".";
      var q = linear(x, T, w[L + "q.w"], w[L + "q.b"]);
      var k = linear(x, T, w[L + "k.w"], w[L + "k.b"]);
      var v = linear(x, T, w[L + "v.w"], w[L + "v.b"]);
      var att = new Float32Array(T * h);
      for (var hh = 0; hh < heads; hh++) {
        var off = hh * hd;
        for (t = 0; t < T; t++) {
          var max = -Infinity, s2, j;
          for (s2 = 0; s2 < T; s2++) {
            var dot = 0;
            for (j = 0; j < hd; j++) dot += q[t * h + off + j] * k[s2 * h + off + j];
            p[s2] = dot * scale;
            if (p[s2] > max) max = p[s2];
          }
          var sum = 0;
          for (s2 = 0; s2 < T; s2++) { p[s2] = Math.exp(p[s2] - max); sum += p[s2]; }
          for (j = 0; j < hd; j++) {
            var acc = 0;
            for (s2 = 0; s2 < T; s2++) acc += p[s2] * v[s2 * h + off + j];
            att[t * h + off + j] = acc / sum;
          }
        }
      }
      var o = linear(att, T, w[L + "o.w"], w[L + "o.b"]);
      for (i = 0; i < T * h; i++) x[i] += o[i];
      layerNorm(x, T, h, w[L + "ln1.g"], w[L + "ln1.b"], c.eps);
      var u = linear(x, T, w[L + "ff1.w"], w[L + "ff1.b"]);
      for (i = 0; i < u.length; i++) u[i] = 0.5 * u[i] * (1 + erf(u[i] * Math.SQRT1_2));
      var dn = linear(u, T, w[L + "ff2.w"], w[L + "ff2.b"]);
      for (i = 0; i < T * h; i++) x[i] += dn[i];
      layerNorm(x, T, h, w[L + "ln2.g"], w[L + "ln2.b"], c.eps);
    }
    var mean = new Float32Array(h), norm = 0;
    for (i = 0; i < h; i++) {
      var m = 0;
      for (t = 0; t < T; t++) m += x[t * h + i];
      mean[i] = m / T;
      norm += mean[i] * mean[i];
    }
    norm = Math.sqrt(norm) || 1;
    for (i = 0; i < h; i++) mean[i] /= norm;
    return mean;
  };

  /** The token ids of `text`. */
  Model.prototype.tokenize = function (text) {
    return this.tokenizer.encode(text, this.cfg.max_tokens);
  };

  /** The unit sentence vector of `text`. */
  Model.prototype.embed = function (text) {
    return this.run(this.tokenize(text));
  };

  return { Model: Model, Tokenizer: Tokenizer };
})();
