"""Browser packages installed by npm, served from node_modules (never committed)."""

import pathlib

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import send_from_directory

bp = Blueprint("assets", __name__)

# Only these files of node_modules are reachable over HTTP.
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "pico.min.css": "@picocss/pico/css/pico.min.css",
    "Sortable.min.js": "sortablejs/Sortable.min.js",
    "mermaid.min.js": "mermaid/dist/mermaid.min.js",
    "highlight.min.js": "@highlightjs/cdn-assets/highlight.min.js",
    "highlight-github.min.css": "@highlightjs/cdn-assets/styles/github.min.css",
}


@bp.get("/vendor/<name>")
def vendor(name):
    """One whitelisted file from an npm package."""
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = pathlib.Path(current_app.config["NODE_MODULES"]) / relative
    return send_from_directory(path.parent, path.name, max_age=3600)
