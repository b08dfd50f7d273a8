"""Browser files: named by content digest, compressed, and cached by browsers for a year.

Pages link them through `asset_url(name)`; the older unversioned paths (/static/…,
/vendor/…) still answer for anyone who kept one.
"""

import gzip
import pathlib

import brotli
from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import redirect
from flask import send_from_directory
from flask import url_for

from designer.asset_files import VENDOR_FILES
from designer.asset_files import AssetFiles
from designer.web import compress

bp = Blueprint("assets", __name__)
IMMUTABLE = "public, max-age=31536000, immutable"


def asset_files():
    return current_app.extensions["asset_files"]


def asset_url(name):
    """The URL of an asset ("css/app.css", "vendor/htmx.min.js") that names its content."""
    return url_for("assets.fingerprinted", digest=asset_files().digest(name), name=name)


@bp.get("/assets/<digest>/<path:name>")
@compress.compressed()
def fingerprinted(digest, name):
    """One asset, immutable under its digest; an old digest is sent on to the current one."""
    asset = asset_files().get(name)
    if asset is None:
        abort(404)
    if digest != asset.digest:
        moved = redirect(asset_url(name))
        moved.headers["Cache-Control"] = "no-cache"
        return moved
    response = Response(asset.body, mimetype=asset.mimetype)
    response.set_etag(asset.digest)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.get("/vendor/<name>")
def vendor(name):
    """One whitelisted file from an npm package (unversioned; pages use asset_url)."""
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = pathlib.Path(current_app.config["NODE_MODULES"]) / relative
    return send_from_directory(path.parent, path.name, max_age=3600)


# The diagram's layout engine, 1.6 MB.
LARGE_ASSETS = ["vendor/elk.bundled.js"]


def compressed_body(app, body, encoding):
    if encoding == "br":
        return brotli.compress(body, quality=app.config["COMPRESS_BR_LEVEL"])
    return gzip.compress(body, compresslevel=app.config["COMPRESS_LEVEL"])


def precompress(app, names):
    """Compress the named assets ahead of the first visitor who asks for them (about 0.15 s
    for the layout engine; under gunicorn the workers inherit them from the preloading
    master), under the key the asset route's compression looks them up by."""
    files = app.extensions["asset_files"]
    for name in names:
        asset = files.get(name)
        if asset is None:
            continue
        with app.test_request_context():
            path = asset_url(name)
        for encoding in app.config["COMPRESS_ALGORITHM"]:
            key = f"{encoding};{path}"
            if compress.cache.get(key) is None:
                compress.cache.set(key, compressed_body(app, asset.body, encoding))


def init_app(app):
    app.extensions["asset_files"] = AssetFiles(app.static_folder, app.config["NODE_MODULES"])
    app.jinja_env.globals["asset_url"] = asset_url
    if not app.testing:
        precompress(app, LARGE_ASSETS)
