// SMS cost counting for the compose page: a port of msghub/sms (split.py
// cost(), gsm7.py, ucs2.py, transliterate.py). tests/web/test_sms_js.py runs
// this file in QuickJS and checks it against the Python code with hypothesis.
// Works in a browser (window.msghubSms) and in any JavaScript engine
// (globalThis.msghubSms).
(function (root) {
  "use strict";

  // GSM 03.38 default alphabet without the escape (0x1B), and the extension
  // table (characters that cost two septets)
  var BASIC = "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9 !\"#\u00a4%&'()*+,-./0123456789:;<=>?\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0";
  var EXTENSION = "\f^{}\\[~]|\u20ac";
  var USER_DATA_OCTETS = 140;
  var CONCAT_UDH_LEN = 6;
  var MAX_PARTS = 255;
  var UNIT_NAMES = { gsm7: "septets", ucs2: "UCS-2 units" };

  var TABLE = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'", "\u02b9": "'", "\u00b4": "'", "`": "'", "\u2039": "'", "\u203a": "'", "\u201c": "\"", "\u201d": "\"", "\u201e": "\"", "\u201f": "\"", "\u2033": "\"", "\u00ab": "\"", "\u00bb": "\"", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...", "\u2025": "..", "\u2044": "/", "\u00d7": "x", "\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "TM", "\t": " ", "\u00a0": " ", "\u1680": " ", "\u202f": " ", "\u205f": " ", "\u3000": " ", "\u2028": "\n", "\u2029": "\n", "\u200b": "", "\u200c": "", "\u200d": "", "\u200e": "", "\u200f": "", "\u2060": "", "\ufeff": "", "\u00ad": "", "\ufe0e": "", "\ufe0f": "", "\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D", "\u00f0": "d", "\u00d0": "D", "\u0131": "i", "\u00fe": "th", "\u00de": "Th", "\u0153": "oe", "\u0152": "OE", "\u1e9e": "SS", "\u0127": "h", "\u0126": "H", "\u0167": "t", "\u0166": "T", "\u0140": "l", "\u013f": "L", "\u0138": "k", "\u014b": "n", "\u014a": "N", "\u0151": "\u00f6", "\u0150": "\u00d6", "\u0171": "\u00fc", "\u0170": "\u00dc"};
  (function () {
    for (var c = 0x2000; c < 0x200B; c++) { TABLE[String.fromCharCode(c)] = " "; }
  }());
  var GREEK_TO_LATIN = {"\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H", "\u0399": "I", "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P", "\u03a4": "T", "\u03a5": "Y", "\u03a7": "X"};

  function codePoints(text) { return Array.from(text); }

  function charSeptets(ch) {
    if (ch.length === 1 && BASIC.indexOf(ch) >= 0) { return 1; }
    if (ch.length === 1 && EXTENSION.indexOf(ch) >= 0) { return 2; }
    return 0;
  }

  function isGsm7(text) {
    return codePoints(text).every(function (ch) { return charSeptets(ch) > 0; });
  }

  function charUnits(ch) { return ch.codePointAt(0) > 0xFFFF ? 2 : 1; }

  function unitLimit(encoding, udhOctets) {
    var free = USER_DATA_OCTETS - udhOctets;
    if (encoding === "gsm7") {
      var fill = udhOctets ? (7 - (udhOctets * 8) % 7) % 7 : 0;
      return Math.floor((free * 8 - fill) / 7);
    }
    return Math.floor(free / 2);
  }

  // [[units of each part]...]: one part if it fits, else greedy parts that
  // never split a character (escapes and surrogate pairs stay whole)
  function segment(chars, encoding) {
    var cost = encoding === "gsm7" ? charSeptets : charUnits;
    var costs = chars.map(cost);
    var total = costs.reduce(function (a, b) { return a + b; }, 0);
    if (total <= unitLimit(encoding, 0)) { return [total]; }
    var limit = unitLimit(encoding, CONCAT_UDH_LEN);
    var parts = [];
    var used = 0;
    costs.forEach(function (n) {
      if (used + n > limit) { parts.push(used); used = 0; }
      used += n;
    });
    parts.push(used);
    return parts;
  }

  function stripMarks(ch) {
    var nfd = codePoints(ch.normalize("NFD"));
    for (var k = nfd.length - 1; k > 0; k--) {
      var candidate = nfd.slice(0, k).join("").normalize("NFC");
      if (isGsm7(candidate)) { return candidate; }
    }
    return null;
  }

  function greek(ch) {
    var code = ch.codePointAt(0);
    if (code < 0x0370 || code > 0x03FF) { return null; }
    var base = codePoints(ch.normalize("NFD"))[0].toUpperCase();
    if (isGsm7(base)) { return base; }
    return Object.prototype.hasOwnProperty.call(GREEK_TO_LATIN, base) ? GREEK_TO_LATIN[base] : null;
  }

  var COMBINING = /^\p{Mn}$/u;

  function compat(ch) {
    var nfkd = ch.normalize("NFKD");
    if (nfkd === ch) { return null; }
    var out = codePoints(nfkd).filter(function (c) { return !COMBINING.test(c); }).map(function (c) {
      return Object.prototype.hasOwnProperty.call(TABLE, c) ? TABLE[c] : c;
    }).join("");
    return out && isGsm7(out) ? out : null;
  }

  function transliterateChar(ch) {
    if (isGsm7(ch)) { return ch; }
    if (Object.prototype.hasOwnProperty.call(TABLE, ch)) { return TABLE[ch]; }
    var rules = [greek, stripMarks, compat];
    for (var i = 0; i < rules.length; i++) {
      var found = rules[i](ch);
      if (found !== null) { return found; }
    }
    return ch;
  }

  function transliterate(text) { return codePoints(text).map(transliterateChar).join(""); }

  // the text to send and whether it is the transliterated one (choose_text)
  function chooseText(text, wantTransliteration) {
    if (!wantTransliteration || isGsm7(text)) { return [text, false]; }
    var candidate = transliterate(text);
    if (!isGsm7(candidate)) { return [text, false]; }
    var asGsm = segment(codePoints(candidate), "gsm7").length;
    var asUcs2 = segment(codePoints(text), "ucs2").length;
    if (asGsm > asUcs2) { return [text, false]; }
    return [candidate, true];
  }

  // What sending text costs: the same fields as msghub.sms.split.cost()
  function cost(text, wantTransliteration) {
    var chosen = chooseText(text, !!wantTransliteration);
    var sent = chosen[0];
    var encoding = isGsm7(sent) ? "gsm7" : "ucs2";
    var parts = segment(codePoints(sent), encoding);
    var perPart = unitLimit(encoding, parts.length > 1 ? CONCAT_UDH_LEN : 0);
    var used = parts[parts.length - 1];
    var loneSurrogate = codePoints(sent).some(function (c) {
      var n = c.codePointAt(0);
      return n >= 0xD800 && n <= 0xDFFF;
    });
    return {
      encoding: encoding,
      unit: UNIT_NAMES[encoding],
      segments: parts.length,
      units: parts.reduce(function (a, b) { return a + b; }, 0),
      per_part: perPart,
      used: used,
      remaining: perPart - used,
      transliterated: chosen[1],
      sendable: parts.length <= MAX_PARTS && !loneSurrogate
    };
  }

  // the characters that force UCS-2, each once, in order of appearance
  function nonGsm(text) {
    var seen = [];
    codePoints(text).forEach(function (c) {
      if (!charSeptets(c) && seen.indexOf(c) < 0) { seen.push(c); }
    });
    return seen;
  }

  root.msghubSms = { cost: cost, transliterate: transliterate, nonGsm: nonGsm, isGsm7: isGsm7, TABLE: TABLE };
}(typeof globalThis !== "undefined" ? globalThis : this));
