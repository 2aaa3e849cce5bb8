"""HTML from a mail, made safe to show (nh3, the Ammonia sanitiser).

Scripts, event handlers, forms and styles that can leak are removed; links
open in a new context without a referrer. Remote images are blocked until the
reader allows them: until then their src is dropped, so the page fetches
nothing (a remote image tells the sender the mail was read).
Inline images (cid:) are rewritten to the hub's part URLs by the caller.
"""

from __future__ import annotations

import nh3

_TAGS = set(nh3.ALLOWED_TAGS) | {"img", "font", "center", "span", "div", "table", "thead", "tbody",
                                  "tr", "td", "th"}
_ATTRS: dict[str, set[str]] = {
    "*": {"title", "align", "dir", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "font": {"color"},
}


def sanitize_html(html: str, allow_remote_images: bool = False,
                  cid_url: dict[str, str] | None = None) -> str:
    cids = cid_url or {}

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr == "href" and value.strip().lower().startswith("cid:"):
            return None
        if tag != "img" or attr != "src":
            return value
        low = value.strip().lower()
        if low.startswith("cid:"):
            return cids.get(value.strip()[4:].strip("<>"))
        if allow_remote_images and low.startswith("https://"):
            return value
        return None

    cleaned = nh3.clean(html, tags=_TAGS, attributes=_ATTRS, attribute_filter=attribute_filter,
                        url_schemes={"http", "https", "mailto", "cid"}, link_rel="noopener noreferrer nofollow",
                        strip_comments=True)
    return cleaned


def has_remote_images(html: str) -> bool:
    low = html.lower()
    return "<img" in low and ("http://" in low or "https://" in low)
