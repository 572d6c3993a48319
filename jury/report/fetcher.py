"""The only way WeasyPrint may load a resource while rendering a report or a sheet.

It serves the project's own static files (our CSS, the DSFR's Marianne fonts), found by Django's
static-files finders under the pseudo-origin `STATIC_ORIGIN`, and the `data:` URLs of our own charts.
Everything else — `file://`, `http(s)://` anywhere, a path escaping the static folders — is refused
(`ValueError`: WeasyPrint then skips the resource), and remembered in `refused` for the tests and the logs.
"""

import logging
import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# A reserved top-level domain: this origin can never reach the network, even by mistake.
STATIC_ORIGIN = "https://ami-portail.invalid"
BASE_URL = f"{STATIC_ORIGIN}/"
STATIC_PREFIX = "/static/"
TYPES = {".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff", ".svg": "image/svg+xml",
         ".png": "image/png"}


class StaticOnlyFetcher(URLFetcher):
    """`URLFetcher` (WeasyPrint 70) that answers from the static files and `data:` URLs only."""

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols=("https", "data"), allow_redirects=False, **kwargs)
        self.refused = []

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            logger.warning("report rendering: refused to fetch %r", url[:200])
            raise ValueError(f"refused to fetch {url[:200]!r}: only the portal's static files are served")
        content_type = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "text/plain"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    @staticmethod
    def _static_path(url):
        """The file behind `url` if it is one of our static files, else None."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != STATIC_ORIGIN or not parts.path.startswith(STATIC_PREFIX):
            return None
        relative = posixpath.normpath(unquote(parts.path)[len(STATIC_PREFIX):])
        if relative.startswith(("..", "/")) or "\\" in relative or "\x00" in relative:
            return None
        found = finders.find(relative)
        return Path(found) if found and Path(found).is_file() else None
