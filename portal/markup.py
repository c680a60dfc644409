"""The portal's one sanitizer for text people write: light Markdown in, safe HTML out.

`render_markdown(text)`: markdown-it-py with the CommonMark preset and raw HTML turned off
(so `<script>` is shown as text), links checked by markdown-it's own validator, then nh3 with
a short list of tags and attributes, so nothing the author wrote can run or restyle the page.
`render_html(text)`: for text that came as HTML (a GIFT `[html]` question): nh3 alone, with
the same list. Every area that shows written text (the item bank, later the boards) uses these.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "sub",
    "sup",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


def _clean(html: str) -> Markup:
    return Markup(  # noqa: S704 - nh3 has just cleaned it
        nh3.clean(
            html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow"
        )
    )


def render_markdown(text: str | None) -> Markup:
    return _clean(_md.render(text or ""))


def render_inline(text: str | None) -> Markup:
    """One line (an option, a title): inline Markdown only, no paragraphs."""
    return _clean(_md.renderInline(text or ""))


def render_html(text: str | None) -> Markup:
    return _clean(text or "")


def render(text: str | None, fmt: str = "markdown", inline: bool = False) -> Markup:
    if fmt == "html":
        return render_html(text)
    return render_inline(text) if inline else render_markdown(text)
