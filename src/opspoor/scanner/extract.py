"""Find links and embedded media in an HTML page: img (src, srcset, lazy-load data-* attributes),
picture/source, video/source and posters, links to media files, og:image and twitter:image, and CSS
url() in style attributes and <style> blocks.

Uses the standard library's tolerant HTML parser: pages in the wild are rarely valid HTML, and a
parse must never fail a scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from opspoor.scanner.scope import normalise_url

# File extensions that make a link a media item rather than a page.
MEDIA_EXTENSIONS = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".gif",
        ".webp",
        ".bmp",
        ".tif",
        ".tiff",
        ".heic",
        ".heif",
        ".avif",
        ".mp4",
        ".m4v",
        ".mov",
        ".webm",
        ".mkv",
        ".avi",
        ".wmv",
        ".flv",
        ".mpg",
        ".mpeg",
        ".3gp",
    ]
)
# url() targets in CSS that are not media (fonts, style sheets).
_NOT_MEDIA = frozenset([".css", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".js", ".htm", ".html"])
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)
_META_MEDIA = {
    "og:image": "og:image",
    "og:image:url": "og:image",
    "og:image:secure_url": "og:image",
    "twitter:image": "og:image",
    "twitter:image:src": "og:image",
    "og:video": "og:video",
    "og:video:url": "og:video",
    "og:video:secure_url": "og:video",
}
_IMG_SRC = ("src", "data-src", "data-original", "data-lazy-src")
_IMG_SRCSET = ("srcset", "data-srcset")


@dataclass(frozen=True)
class MediaRef:
    url: str
    found_as: str  # img, srcset, picture, video, poster, og:image, og:video, link, css


@dataclass
class Extracted:
    links: list[str] = field(default_factory=list)
    media: list[MediaRef] = field(default_factory=list)


def extension(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).suffix.lower()


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset attribute ("a.jpg 1x, b.jpg 2x"), parsed as the HTML standard's
    "parse a srcset attribute" does: a URL is a run of non-space characters (commas inside it
    belong to it, trailing ones end it), then descriptors up to the next comma."""
    urls, pos, n = [], 0, len(value)
    while pos < n:
        while pos < n and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < n and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0  # skip descriptors; a comma inside parentheses does not end them
            while pos < n and (value[pos] != "," or depth):
                depth += {"(": 1, ")": -1}.get(value[pos], 0)
                pos += 1
        if url and not url.startswith("data:"):
            urls.append(url)
    return urls


def css_urls(text: str) -> list[str]:
    found = []
    for match in _CSS_URL.finditer(text):
        url = next(g for g in match.groups() if g is not None).strip()
        if url and not url.startswith(("data:", "#")) and extension(url) not in _NOT_MEDIA:
            found.append(url)
    return found


class _Parser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base_url
        self.base_set = False
        self.links: list[str] = []
        self.media: list[tuple[str, str]] = []
        self._in_style = False
        self._media_parent: list[str] = []  # picture / video / audio elements we are inside

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v for k, v in attrs if v is not None}
        if "style" in a:
            self.media += [(u, "css") for u in css_urls(a["style"])]
        if tag == "base" and "href" in a and not self.base_set:
            self.base = urljoin(self.base, a["href"])
            self.base_set = True
        elif tag in ("a", "area") and "href" in a:
            href = a["href"]
            if extension(href) in MEDIA_EXTENSIONS:
                self.media.append((href, "link"))
            else:
                self.links.append(href)
        elif tag in ("iframe", "frame") and "src" in a:
            self.links.append(a["src"])
        elif tag == "img":
            kind = "picture" if self._media_parent[-1:] == ["picture"] else "img"
            self.media += [(a[k], kind) for k in _IMG_SRC if k in a]
            for k in _IMG_SRCSET:
                if k in a:
                    self.media += [(u, "srcset") for u in srcset_urls(a[k])]
        elif tag in ("picture", "video", "audio"):
            self._media_parent.append(tag)
            if tag == "video":
                if "src" in a:
                    self.media.append((a["src"], "video"))
                if "poster" in a:
                    self.media.append((a["poster"], "poster"))
        elif tag == "source":
            parent = self._media_parent[-1] if self._media_parent else "picture"
            if parent == "audio":
                return
            kind = "video" if parent == "video" else "picture"
            if "src" in a:
                self.media.append((a["src"], kind))
            if "srcset" in a:
                self.media += [(u, kind) for u in srcset_urls(a["srcset"])]
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            if key in _META_MEDIA and a.get("content"):
                self.media.append((a["content"], _META_MEDIA[key]))
        elif tag == "link" and "href" in a:
            rel = a.get("rel", "").lower().split()
            if "image_src" in rel or (a.get("as") == "image" and "preload" in rel):
                self.media.append((a["href"], "link"))
        elif tag == "style":
            self._in_style = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("picture", "video", "audio"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag in ("picture", "video", "audio") and tag in self._media_parent:
            while self._media_parent and self._media_parent.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.media += [(u, "css") for u in css_urls(data)]


def extract(html: str, page_url: str) -> Extracted:
    """Links and media of a page, as normalised absolute URLs, each once, in document order."""
    parser = _Parser(page_url)
    parser.feed(html)
    parser.close()
    out = Extracted()
    seen_links: set[str] = set()
    for raw in parser.links:
        url = normalise_url(urljoin(parser.base, raw))
        if url and url not in seen_links:
            seen_links.add(url)
            out.links.append(url)
    seen_media: set[str] = set()
    for raw, found_as in parser.media:
        url = normalise_url(urljoin(parser.base, raw))
        if url and url not in seen_media:
            seen_media.add(url)
            out.media.append(MediaRef(url, found_as))
    return out


def decode_html(content: bytes, content_type: str | None) -> str:
    """The page's text: the charset from Content-Type, else a <meta charset>, else UTF-8."""
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    if charset is None:
        found = re.search(rb"""<meta[^>]+charset=["']?([a-zA-Z0-9_-]+)""", content[:2048], re.IGNORECASE)
        charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")
