// The rule API: the only things a rule can reach. Evaluated before every
// rule in a fresh context; `input` (set by the runner) holds the event, its
// message, the rule's name and the answers to earlier lookups.
//
// Rules are pure: everything they do is recorded as an action, and the
// runner applies the actions after the rule has finished (in the same
// transaction that marks the event done). Lookups (contacts.find, state.get,
// lists.members) that the runner has not answered yet stop the rule; the
// runner answers them and runs the rule again from the start, so a rule must
// not count on anything but its input. Every documented function is listed in
// __API at the bottom (docs/RULES.md documents each one; a test checks it).
'use strict';
var __actions = [];
var __needs = [];

const event = input.event;
const message = input.message;
const rule = input.rule;

// Parts of the API most rules never touch are compiled on first use: the
// engine scans a string literal far faster than it compiles code, and every
// run starts from a fresh context. api.py turns each "@lazy NAME" block into
// the text of a function of the helpers below that returns NAME.
const __eval = globalThis.eval;
function __lazy(name, code) {
  let value;
  let made = false;
  Object.defineProperty(globalThis, name, {
    configurable: false,
    enumerable: false,
    get() {
      if (!made) { value = __eval(code)(__act, __text, __object, __lookup, message, input); made = true; }
      return value;
    },
  });
}

function __NeedData(key) { this.key = key; }
__NeedData.prototype.toString = function () { return '__msghub_need__' + this.key; };

function __lookup(kind, args) {
  const key = kind + ' ' + JSON.stringify(args);
  const answers = input.lookups || {};
  if (Object.prototype.hasOwnProperty.call(answers, key)) return answers[key];
  if (__needs.indexOf(key) < 0) __needs.push(key);
  throw new __NeedData(key);
}

function __act(type, fields) {
  const action = Object.assign({ type: type }, fields);
  __actions.push(JSON.parse(JSON.stringify(action)));  // a copy: later changes do not leak in
}

function __object(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(what + ' takes an object');
  }
  return value;
}

function __text(value, what) {
  if (typeof value !== 'string') throw new TypeError(what + ' must be a string');
  return value;
}

function reply(content) {
  if (!message) throw new Error('reply(): this event has no message to reply to');
  const fields = typeof content === 'string' ? { text: content } : __object(content, 'reply()');
  __act('reply', fields);
}

function send(fields) {
  __act('send', __object(fields, 'send()'));
}

function move(folder) {
  if (!message) throw new Error('move(): this event has no message');
  __act('move', { folder: __text(folder, 'move(): the folder name') });
}

function assign(to) {
  if (!message) throw new Error('assign(): this event has no message');
  const fields = typeof to === 'string' ? { user: to } : __object(to, 'assign()');
  __act('assign', fields);
}

function stop() {
  __act('stop', {});
}

// @lazy contacts
const contacts = Object.freeze({
  find(query) { return __lookup('contacts.find', __object(query, 'contacts.find()')); },
  create(fields) { __act('contact.create', __object(fields, 'contacts.create()')); },
});

// @end
// @lazy lists
const lists = Object.freeze({
  add(list, member) {
    __act('list.add', { list: __text(list, 'lists.add(): the list name'), member: __object(member, 'lists.add(): the member') });
  },
  members(list) { return __lookup('lists.members', { list: __text(list, 'lists.members(): the list name') }); },
});

// @end
// @lazy http
const http = Object.freeze({
  request(fields) { __act('http', __object(fields, 'http.request()')); },
});

// @end
// @lazy sql
const sql = Object.freeze({
  insert(table, row) {
    __act('sql.insert', { table: __text(table, 'sql.insert(): the table name'), row: __object(row, 'sql.insert(): the row') });
  },
});

// @end
// @lazy state
// State reads see this run's own writes.
const __stateWrites = {};
function __stateValue(key) {
  if (Object.prototype.hasOwnProperty.call(__stateWrites, key)) return __stateWrites[key];
  const stored = __lookup('state.get', { key: key });
  return stored === undefined ? null : stored;
}

const state = Object.freeze({
  get(key, fallback) {
    const value = __stateValue(__text(key, 'state.get(): the key'));
    return value === null && fallback !== undefined ? fallback : value;
  },
  set(key, value) {
    __text(key, 'state.set(): the key');
    if (value === undefined) throw new TypeError('state.set(): the value must not be undefined');
    __stateWrites[key] = JSON.parse(JSON.stringify(value));
    __act('state.set', { key: key, value: value });
  },
  incr(key, by) {
    const step = by === undefined ? 1 : by;
    if (typeof step !== 'number' || !isFinite(step)) throw new TypeError('state.incr(): the step must be a number');
    const now = __stateValue(__text(key, 'state.incr(): the key'));
    const next = (typeof now === 'number' ? now : 0) + step;
    __stateWrites[key] = next;
    __act('state.incr', { key: key, by: step });
    return next;
  },
  add(key, member) {
    const now = __stateValue(__text(key, 'state.add(): the key'));
    const set = Array.isArray(now) ? now.slice() : [];
    const json = JSON.stringify(member);
    const isNew = !set.some((m) => JSON.stringify(m) === json);
    if (isNew) set.push(member);
    __stateWrites[key] = set;
    __act('state.add', { key: key, member: member });
    return isNew;
  },
  has(key, member) {
    const now = __stateValue(__text(key, 'state.has(): the key'));
    const json = JSON.stringify(member);
    return Array.isArray(now) && now.some((m) => JSON.stringify(m) === json);
  },
  delete(key) {
    __stateWrites[__text(key, 'state.delete(): the key')] = null;
    __act('state.delete', { key: key });
  },
});

// @end
// @lazy log
function __logger(level) {
  return function () {
    const parts = [];
    for (let i = 0; i < arguments.length; i++) {
      const a = arguments[i];
      parts.push(typeof a === 'string' ? a : JSON.stringify(a));
    }
    __act('log', { level: level, message: parts.join(' ') });
  };
}
const log = Object.freeze({ info: __logger('info'), warn: __logger('warn'), error: __logger('error') });
// @end
// @lazy console
const console = Object.freeze({ log: log.info, info: log.info, warn: log.warn, error: log.error });

// @end
const poll = Object.freeze({
  vote(name, text) {
    if (!message) throw new Error('poll.vote(): this event has no message (the sender of a message is the voter)');
    const fields = { poll: __text(name, 'poll.vote(): the poll name') };
    if (text !== undefined) fields.text = __text(text, 'poll.vote(): the text');
    __act('poll.vote', fields);
  },
});

// @lazy keywords
// Keyword matching, the same rule as msghub.rules.keywords (Python): case,
// accents and the noise around a word are ignored; words are never split.
// JavaScript has neither casefold() nor combining classes, so both are built
// from what it has; tests/rules/test_keywords_js.py holds the two halves equal.
const __spellOut = { 'ø': 'o', 'æ': 'ae', 'œ': 'oe', 'ł': 'l', 'đ': 'd', 'ð': 'd', 'þ': 'th', 'ı': 'i', 'ħ': 'h', 'ŧ': 't', 'ß': 'ss' };
// casefold() is upper-then-lower case, except that it never gives a final
// sigma and that it folds Cherokee to its capitals.
function __casefold(s) {
  return s.toUpperCase().toLowerCase().replace(/ς/g, 'σ')
    .replace(/[\u13F8-\u13FD\uAB70-\uABBF]/g, (c) => c.toUpperCase());
}
// Python drops only marks with a combining class above 0 (the others become
// word breaks). NFD reorders such a mark around marks of class 1 and 240.
function __hasCombiningClass(mark) {
  const after240 = 'a\u0345' + mark;
  const before1 = 'a' + mark + '\u0334';
  return after240.normalize('NFD') !== after240 || before1.normalize('NFD') !== before1;
}
function __normalize(text) {
  let s = __casefold(String(text).normalize('NFKD'));
  s = s.replace(/[øæœłđðþıħŧß]/g, (c) => __spellOut[c]).normalize('NFKD');
  s = s.replace(/\p{M}/gu, (c) => (__hasCombiningClass(c) ? '' : ' ')).replace(/[^\p{L}\p{N}]+/gu, ' ');
  return s.trim();
}
function __words(text) { const n = __normalize(text); return n === '' ? [] : n.split(' '); }
function __spans(words, wanted) {
  const out = [];
  for (let i = 0; i + wanted.length <= words.length; i++) {
    let ok = true;
    for (let j = 0; j < wanted.length; j++) if (words[i + j] !== wanted[j]) { ok = false; break; }
    if (ok) out.push([i, i + wanted.length]);
  }
  return out;
}
const keywords = Object.freeze({
  normalize(text) { return __normalize(__text(text, 'keywords.normalize(): the text')); },
  contains(text, keyword) {
    const wanted = __words(__text(keyword, 'keywords.contains(): the keyword'));
    return wanted.length > 0 && __spans(__words(__text(text, 'keywords.contains(): the text')), wanted).length > 0;
  },
  startsWith(text, keyword) {
    const wanted = __words(__text(keyword, 'keywords.startsWith(): the keyword'));
    const words = __words(__text(text, 'keywords.startsWith(): the text'));
    return wanted.length > 0 && __spans(words.slice(0, wanted.length), wanted).length > 0;
  },
  match(text, list) {
    if (!Array.isArray(list)) throw new TypeError('keywords.match(): the keywords must be an array');
    const words = __words(__text(text, 'keywords.match(): the text'));
    const found = [];
    const seen = {};
    for (const keyword of list) {
      const key = __normalize(__text(keyword, 'keywords.match(): a keyword'));
      if (key === '' || seen[key]) continue;
      seen[key] = true;
      const spans = __spans(words, key.split(' '));
      if (spans.length) found.push({ keyword: keyword, key: key, spans: spans });
    }
    const counting = found.filter((f) => !f.spans.every(([s0, e0]) => found.some(
      (o) => o.key !== f.key && o.spans.some(([s, e]) => s <= s0 && e0 <= e && e - s > e0 - s0))));
    return counting.length === 1 ? counting[0].keyword : null;
  },
});

// @end
const __API = [
  'event', 'message', 'rule', 'reply', 'send', 'move', 'assign', 'stop',
  'contacts.find', 'contacts.create', 'lists.add', 'lists.members',
  'http.request', 'sql.insert',
  'state.get', 'state.set', 'state.incr', 'state.add', 'state.has', 'state.delete',
  'log.info', 'log.warn', 'log.error', 'console.log',
  'poll.vote', 'keywords.normalize', 'keywords.contains', 'keywords.startsWith', 'keywords.match',
];
