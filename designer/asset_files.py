"""The files browsers load: our own under static/ and a whitelist of npm package files,
each named in URLs by a digest of its content so that it can be cached for good."""

import hashlib
import mimetypes
import pathlib
import threading
from dataclasses import dataclass

VENDOR = "vendor/"

# Only these files of node_modules are reachable over HTTP.
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "pico.min.css": "@picocss/pico/css/pico.min.css",
    "Sortable.min.js": "sortablejs/Sortable.min.js",
    "highlight.min.js": "@highlightjs/cdn-assets/highlight.min.js",
    "highlight-github.min.css": "@highlightjs/cdn-assets/styles/github.min.css",
    "elk.bundled.js": "elkjs/lib/elk.bundled.js",
    "panzoom.min.js": "@panzoom/panzoom/dist/panzoom.min.js",
}

DIGEST_LENGTH = 16


@dataclass(frozen=True)
class Asset:
    name: str
    digest: str
    body: bytes
    mimetype: str


class AssetFiles:
    """Reads assets by name ("js/app.js", "vendor/htmx.min.js"), kept in memory until the
    file on disk changes (its size or modification time)."""

    def __init__(self, static_folder, node_modules):
        self.static_folder = pathlib.Path(static_folder).resolve()
        self.node_modules = pathlib.Path(node_modules)
        self.kept = {}
        self.lock = threading.Lock()

    def path(self, name):
        """Where the named asset lives, or None for a name that is not an asset."""
        if name.startswith(VENDOR):
            relative = VENDOR_FILES.get(name.removeprefix(VENDOR))
            return self.node_modules / relative if relative else None
        path = (self.static_folder / name).resolve()
        if not path.is_relative_to(self.static_folder) or not path.is_file():
            return None
        return path

    def get(self, name):
        """The asset as it is on disk now, or None."""
        path = self.path(name)
        if path is None:
            return None
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self.lock:
            kept = self.kept.get(name)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        body = path.read_bytes()
        asset = Asset(
            name=name,
            digest=hashlib.sha256(body).hexdigest()[:DIGEST_LENGTH],
            body=body,
            mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        )
        with self.lock:
            self.kept[name] = (stamp, asset)
        return asset

    def digest(self, name):
        asset = self.get(name)
        if asset is None:
            raise LookupError(f"No asset named {name!r}")
        return asset.digest
