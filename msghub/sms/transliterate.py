"""Map characters outside GSM 03.38 to GSM look-alikes (optional, lossy).

Policy:
- A character already in the GSM default alphabet or its extension table
  (3GPP TS 23.038 6.2.1) is never changed: é, è, ñ, ü, Ä, ß, Ø, Å, Δ stay.
- Punctuation: curly quotes and primes -> ' or ", dashes and minus -> -,
  ellipsis -> ..., odd spaces (NBSP, thin, ideographic, tab) -> space,
  zero-width characters, soft hyphen and variation selectors are dropped.
- Letters: an explicit table for letters that do not decompose (ł, đ, dotless
  i, œ, þ, ẞ -> SS ...), a few national conventions (Hungarian ő -> ö), then
  Unicode decomposition: drop accents only as far as needed to reach a GSM
  character (ǘ -> ü, ą -> a, ç -> c), then compatibility forms (ﬁ -> fi,
  fullwidth A -> A, ½ -> 1/2).
- Greek goes to capitals as Greek phones do: GSM has Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ, the
  other capitals are written with their Latin twins (alpha -> A).
- Anything else (emoji, CJK, Cyrillic, ...) is left as it is; the message
  then needs UCS-2. Cyrillic -> Latin is deliberately not done.
"""

import unicodedata
from functools import lru_cache

from msghub.sms.gsm7 import is_gsm7

_TABLE: dict[str, str] = {
    # quotes, apostrophes, primes
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u02bc": "'", "\u02b9": "'", "\u00b4": "'", "`": "'", "\u2039": "'", "\u203a": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    # dashes and minus
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    # dots, slashes, signs
    "\u2026": "...", "\u2025": "..", "\u2044": "/", "\u00d7": "x",
    "\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "TM",
    # whitespace
    "\t": " ", "\u00a0": " ", "\u1680": " ", "\u202f": " ", "\u205f": " ", "\u3000": " ",
    "\u2028": "\n", "\u2029": "\n",
    # invisible: zero-width, joiners, direction marks, BOM, soft hyphen, VS16
    "\u200b": "", "\u200c": "", "\u200d": "", "\u200e": "", "\u200f": "",
    "\u2060": "", "\ufeff": "", "\u00ad": "", "\ufe0e": "", "\ufe0f": "",
    # letters without a decomposition
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "\u0131": "i",
    "þ": "th", "Þ": "Th", "œ": "oe", "Œ": "OE", "ẞ": "SS", "ħ": "h", "Ħ": "H",
    "ŧ": "t", "Ŧ": "T", "ŀ": "l", "Ŀ": "L", "ĸ": "k", "ŋ": "n", "Ŋ": "N",
    # Hungarian double acute reads as the umlaut, which GSM has
    "ő": "ö", "Ő": "Ö", "ű": "ü", "Ű": "Ü",
}
_TABLE.update({chr(c): " " for c in range(0x2000, 0x200B)})  # en quad .. hair space

# Greek capitals that look like Latin ones (escaped: they are confusables).
_GREEK_TO_LATIN = {
    chr(greek): latin
    for greek, latin in zip(
        (0x391, 0x392, 0x395, 0x396, 0x397, 0x399, 0x39A, 0x39C, 0x39D, 0x39F, 0x3A1, 0x3A4,
         0x3A5, 0x3A7),
        "ABEZHIKMNOPTYX",
        strict=True,
    )
}


def _strip_marks(ch: str) -> str | None:
    """Drop trailing combining marks until a GSM character remains."""
    nfd = unicodedata.normalize("NFD", ch)
    for k in range(len(nfd) - 1, 0, -1):
        candidate = unicodedata.normalize("NFC", nfd[:k])
        if is_gsm7(candidate):
            return candidate
    return None


def _greek(ch: str) -> str | None:
    if not 0x0370 <= ord(ch) <= 0x03FF:
        return None
    base = unicodedata.normalize("NFD", ch)[0].upper()
    if is_gsm7(base):
        return base
    return _GREEK_TO_LATIN.get(base)


def _compat(ch: str) -> str | None:
    nfkd = unicodedata.normalize("NFKD", ch)
    if nfkd == ch:
        return None
    out = "".join(
        _TABLE.get(c, c) for c in nfkd if not unicodedata.combining(c)
    )
    return out if out and is_gsm7(out) else None


@lru_cache(maxsize=4096)
def transliterate_char(ch: str) -> str:
    """GSM replacement for one character, or the character itself."""
    if is_gsm7(ch):
        return ch
    if ch in _TABLE:
        return _TABLE[ch]
    for rule in (_greek, _strip_marks, _compat):
        found = rule(ch)
        if found is not None:
            return found
    return ch


def transliterate(text: str) -> str:
    """Replace non-GSM characters with GSM equivalents where one is sensible."""
    return "".join(transliterate_char(ch) for ch in text)
