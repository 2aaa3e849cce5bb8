"""Keyword matching for SMS polls and auto-replies.

The exact rule:

1. Normalizing (normalize_keyword) turns text into lowercase words separated
   by single spaces: compatibility forms are unfolded (NFKD: full-width A
   is "a", "ﬁ" is "fi"), case is folded ("ß" is "ss"), accents and other
   combining marks are dropped ("é" is "e"), a few letters that carry no
   separable accent are spelled out ("ø" o, "æ" ae, "œ" oe, "ł" l, "đ"/"ð" d,
   "þ" th, dotless i i, "ħ" h, "ŧ" t), and every run of characters that are not
   letters or digits becomes one word break. "  VOTE: Á! " becomes "vote a".

2. A keyword occurs in a message when its words appear in the message's words
   as whole, consecutive words: "vote a", "A.", "a!", "#a" and "VOTE: A" all
   contain "a"; "banana" and "ab" do not (a word is never split).

3. If a keyword's every occurrence lies inside an occurrence of a longer
   keyword that also occurs, it does not count ("stop all" beats "stop").

4. match_keyword returns the keyword (as given) when exactly one keyword
   counts, and None when none does or when different keywords do ("a or b"
   is ambiguous). Keywords that normalize alike are the same keyword; the
   first one given is returned.

Scripts written without spaces are not split into words: "我投A" is one word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Letters NFKD leaves whole although readers see a base letter in them.
_SPELL_OUT = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ħ": "h",
        "ŧ": "t",
    }
)


def normalize_keyword(text: str) -> str:
    """Lowercase, accent-free words joined by single spaces (rule 1 above)."""
    # NFKD before casefold too: unfolding can produce capitals (black-letter H).
    folded = unicodedata.normalize("NFKD", text).casefold().translate(_SPELL_OUT)
    folded = unicodedata.normalize("NFKD", folded)
    chars = [c if c.isalnum() else " " for c in folded if not unicodedata.combining(c)]
    return " ".join("".join(chars).split())


def match_keyword(text: str, keywords: Iterable[str]) -> str | None:
    """The one keyword the message means, or None (rules 2-4 above)."""
    words = normalize_keyword(text).split()
    # normalized keyword -> (keyword as given, spans where it occurs)
    found: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    for keyword in keywords:
        key = normalize_keyword(keyword)
        if not key or key in found:
            continue
        spans = _occurrences(words, key.split())
        if spans:
            found[key] = (keyword, spans)
    counting = [
        keyword
        for key, (keyword, spans) in found.items()
        if not all(_inside_longer(span, key, found) for span in spans)
    ]
    return counting[0] if len(counting) == 1 else None


def _occurrences(words: list[str], wanted: list[str]) -> list[tuple[int, int]]:
    n = len(wanted)
    return [(i, i + n) for i in range(len(words) - n + 1) if words[i : i + n] == wanted]


def _inside_longer(span: tuple[int, int], key: str, found: dict[str, tuple[str, list[tuple[int, int]]]]) -> bool:
    start, end = span
    return any(
        other != key and s <= start and end <= e and e - s > end - start
        for other, (_, spans) in found.items()
        for s, e in spans
    )
