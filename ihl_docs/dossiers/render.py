"""HTML to PDF with WeasyPrint: the URL fetcher, the stylesheet, and one section per call.

Runs in the building process or in worker processes (`render_section` is picklable). Each worker
imports WeasyPrint once and keeps one FontConfiguration, one parsed stylesheet and one image
cache. The fetcher serves the package's fonts and stylesheet and the store's thumbnails, and
refuses every other URL — the network, `file://` elsewhere, `data:` — so text from a record can
never make the renderer read anything.
"""

import atexit
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STYLESHEET = STATIC_DIR / "css" / "dossier.css"
FONTS_DIR = STATIC_DIR / "fonts"
BASE_URL = STYLESHEET.as_uri()
THUMBNAIL_SCHEME = "ihl-thumbnail"
ORIGINAL_SCHEME = "ihl-original"  # an image annexed at full resolution
ORIGINAL_TYPES = {"image/jpeg", "image/png"}
# fontTools, WeasyPrint's fallback subsetter, stamps fonts with the current time unless told a
# fixed one; HarfBuzz (preferred, installed by the set-up) writes no time at all.
os.environ.setdefault("SOURCE_DATE_EPOCH", "0")


# Every section is a tagged PDF (its structure tree is merged by assemble.py); PDF 1.7 as the
# PDF/A-3 front matter is, so no PDF 2.0 namespace enters the tree.
SECTION_OPTIONS = {"pdf_tags": True, "pdf_version": "1.7"}

# When a list, every URL the renderer asks for is appended to it (tests prove what is fetched).
FETCH_LOG: list | None = None


class FetchRefused(ValueError):
    """A URL the dossier renderer does not serve."""


@dataclass(frozen=True)
class SectionJob:
    key: str          # the cache key: a hash of everything that decides the bytes
    html: str
    page_css: str     # the running header, which changes with the case
    store_root: str


def thumbnail_url(sha256: str) -> str:
    return f"{THUMBNAIL_SCHEME}:{sha256}"


def original_url(sha256: str, media_type: str) -> str:
    return f"{ORIGINAL_SCHEME}:{sha256}.{media_type.rpartition('/')[2]}"


def make_fetcher(store_root: Path, seen: list | None = None):
    """A URL fetcher limited to the package's static files and the store's thumbnails."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static = STATIC_DIR.resolve()

    class DossierFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if seen is not None:
                seen.append(url)
            parts = urlsplit(url)
            if parts.scheme == THUMBNAIL_SCHEME:
                return URLFetcherResponse(url, _thumbnail(Path(store_root), parts.path),
                                          {"Content-Type": "image/jpeg"})
            if parts.scheme == ORIGINAL_SCHEME:
                sha, _, kind = parts.path.partition(".")
                if f"image/{kind}" not in ORIGINAL_TYPES:
                    raise FetchRefused("not an annexed image")
                return URLFetcherResponse(url, _thumbnail(Path(store_root), sha),
                                          {"Content-Type": f"image/{kind}"})
            if parts.scheme == "file" and not parts.netloc:
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(static) and path.is_file():
                    kind = "text/css" if path.suffix == ".css" else "font/ttf"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
            raise FetchRefused("the dossier renderer fetches nothing outside its own files")

        def open(self, url, data=None, timeout=None):
            raise FetchRefused("the dossier renderer opens no URL")

    return DossierFetcher(allowed_protocols=("file", THUMBNAIL_SCHEME, ORIGINAL_SCHEME))


def _thumbnail(store_root: Path, sha: str) -> bytes:
    """A stored image (a thumbnail, or an original annexed at full resolution), re-hashed."""
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise FetchRefused("not a stored image")
    data = (store_root / sha[:2] / sha).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise FetchRefused("image altered in the store")
    return data


@lru_cache(maxsize=1)
def renderer_versions() -> dict:
    """What decides the bytes besides the content: recorded in every manifest."""
    import ctypes.util

    import fontTools
    import pydyf
    import pypdf
    import weasyprint
    from weasyprint.text.ffi import harfbuzz_subset, pango

    fonts = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(FONTS_DIR.glob("*.ttf"))}
    try:
        library = ctypes.CDLL(ctypes.util.find_library("harfbuzz") or "libharfbuzz.so.0")
        library.hb_version_string.restype = ctypes.c_char_p
        harfbuzz_version = library.hb_version_string().decode()
    except (OSError, AttributeError):
        harfbuzz_version = "unknown"
    return {
        "weasyprint": weasyprint.__version__, "pydyf": pydyf.__version__,
        "pypdf": pypdf.__version__, "fonttools": fontTools.version,
        "pango": _dotted(pango.pango_version()),
        "harfbuzz": harfbuzz_version,
        "font_subsetter": "harfbuzz" if harfbuzz_subset else "fonttools",
        "tagged": True,  # structure trees in every section (a cached untagged one is not reused)
        "stylesheet": hashlib.sha256(STYLESHEET.read_bytes()).hexdigest(),
        "fonts": fonts,
    }


def _dotted(number: int) -> str:
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def renderer_id() -> str:
    from ihl_docs.core.audit.chain import canonical_json

    return hashlib.sha256(canonical_json(renderer_versions()).encode()).hexdigest()


# ---- the worker side --------------------------------------------------------------------------

_worker: dict = {}
# Drop the fonts while the interpreter is whole: WeasyPrint's FontConfiguration cleans its
# temporary folder on deletion, which fails noisily during the interpreter's own shutdown.
atexit.register(_worker.clear)


def _state(store_root: str) -> dict:
    """Per process: WeasyPrint imported once, fonts and stylesheet loaded once."""
    if not _worker:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        _worker.update(
            fonts=fonts, images={},
            css=CSS(filename=str(STYLESHEET), base_url=BASE_URL,
                    url_fetcher=make_fetcher(STATIC_DIR, FETCH_LOG), font_config=fonts))
    if _worker.get("store_root") != store_root:  # the fetcher serves one store's thumbnails
        _worker.update(store_root=store_root, fetcher=make_fetcher(Path(store_root), FETCH_LOG))
    return _worker


def page_css(running_left: str, running_right: str) -> str:
    """The running header as a small stylesheet: CSS strings, escaped."""
    def quoted(text: str) -> str:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c >= " " else " " for c in text) + '"'

    left, right = quoted(running_left), quoted(running_right)
    return f"@page {{ @top-left {{ content: {left} }} @top-right {{ content: {right} }} }}"


def render_html(html: str, extra_css: str, store_root: str, **pdf_options) -> tuple[bytes, int]:
    """One HTML document to PDF bytes: (pdf, page count)."""
    from weasyprint import CSS, HTML

    state = _state(store_root)
    stylesheets = [state["css"], CSS(string=extra_css, font_config=state["fonts"])]
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=state["fetcher"]).render(
        stylesheets=stylesheets, font_config=state["fonts"], cache=state["images"],
        )
    return document.write_pdf(**pdf_options), len(document.pages)


def render_section(job: SectionJob) -> tuple[str, bytes, int]:
    """Render one section: (its key, the PDF bytes, its page count)."""
    pdf, pages = render_html(job.html, job.page_css, job.store_root, **SECTION_OPTIONS)
    return job.key, pdf, pages


def warm_up(store_root: str) -> None:
    """Load WeasyPrint, the fonts and the stylesheet in a worker before the first section."""
    _state(store_root)
