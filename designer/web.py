"""The web layer: extensions, blueprints, the input check, sessions and response headers."""

import hashlib
import threading
import time

from flask import flash
from flask import g
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Request
from flask_compress import Compress
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from designer import error_pages
from designer import field_lines
from designer import locks
from designer import memory
from designer import rls
from designer import serving
from designer.cli import locks_cli
from designer.cli import users_cli
from designer.db import parse_id
from designer.design import enums
from designer.design import fields
from designer.design import naming
from designer.design.field_types import EXACT_TYPES
from designer.design.field_types import pg_type
from designer.error_pages import is_api_request
from designer.errors import NotFound
from designer.errors import ValidationFailed
from designer.history.change_words import settings_words
from designer.models import User
from designer.signin_limits import limiter
from designer.untrusted import UNSTORABLE
from designer.untrusted import first_bad_json_value
from designer.untrusted import first_unstorable
from designer.untrusted import load_json

login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
# Only the asset route compresses (see views/assets.py); pages are left as they are.
compress = Compress()
ASSET_COMPRESSION = {
    "COMPRESS_REGISTER": False,
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    # Each asset is compressed once per digest and kept, so spend the time on size.
    "COMPRESS_BR_LEVEL": 9,
    "COMPRESS_LEVEL": 9,
}


class CompressedAssets:
    """Compressed asset bodies by encoding and fingerprinted path (content never changes)."""

    def __init__(self):
        self.bodies = {}

    def get(self, key):
        return self.bodies.get(key)

    def set(self, key, value):
        self.bodies[key] = value


def compressed_asset_key(request):
    return request.path


# Scripts only from this origin (htmx and our own files): no inline script runs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


SESSION_USER = (
    "SELECT id, username, email, is_active, created_at, session_epoch FROM rls_session_user(%s)"
)


@login_manager.user_loader
def load_user(user_id):
    """The session's user, while the session carries the user's current epoch."""
    try:
        user_id = parse_id(user_id)
    except NotFound:
        return None
    # The connection acts for the user from now on (designer.rls), set by the same round
    # trip that reads their row (which only they may read); noted first, so the end of the
    # request clears it whatever happens here.
    g.acting_for = user_id
    user = next(iter(User.raw(SESSION_USER, str(user_id))), None)
    if user is None:
        return None
    if session.get("epoch") != user.session_epoch:
        rls.act_for(None)
        g.pop("acting_for")
        return None
    return user


def act_for(user):
    """The rest of this request's statements see `user`'s projects (reset at its end)."""
    rls.act_for(user.id)
    g.acting_for = user.id


def session_identifier():
    """What Flask-Login's strong protection binds a session to: the client's address as
    the server sees it (proxy headers only through ProxyFix, when configured) and its
    browser. Flask-Login's own reads X-Forwarded-For, which any client can send."""
    base = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha512(base.encode("utf-8", "replace")).hexdigest()


@login_manager.unauthorized_handler
def sign_in_first():
    target = url_for(
        "auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None
    )
    if htmx:
        # A partial request cannot redirect the page itself; ask htmx to.
        return "", 401, {"HX-Redirect": target}
    flash("Please sign in to continue.", "info")
    return redirect(target)


SWEEP_EVERY_SECONDS = 10
_last_sweep = [0.0]


def sweep_expired_locks():
    """Now and then, while serving requests, record expired locks as expired.

    Correctness never waits for this (an expired lock is free at once); it
    keeps the lock history honest without a separate job.
    """
    now = time.monotonic()
    if now - _last_sweep[0] >= SWEEP_EVERY_SECONDS:
        _last_sweep[0] = now
        locks.expire_stale()


_loading = threading.Lock()


def load_in_background():
    """The first request starts loading what a later one would wait for (the inflector
    that names relationships' columns): after gunicorn forked its workers, where a thread
    is safe, and never for a `flask db` command, which serves no request."""
    if _loading.acquire(blocking=False):
        threading.Thread(target=naming.inflector, daemon=True).start()


def server_name_only(handler):
    """The development server's Server header, without its and Python's versions."""
    return "Data Model Designer"


class SessionCookies(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (or when forced)."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


class CheckedJSON(DefaultJSONProvider):
    """JSON bodies are read without NaN and without deep nesting (see designer.untrusted)."""

    def loads(self, s, **kwargs):
        return load_json(s)


class CheckedRequest(Request):
    def on_json_loading_failed(self, e):
        raise BadRequest(str(e) if e else "The body is not valid JSON.")


def refuse_unstorable_input():
    """Before any view: text PostgreSQL cannot store (NUL, lone surrogates) is a 422
    naming the field, in the query string, a form or a JSON body; unreadable JSON is a 400."""
    pairs = [*request.args.items(multi=True)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        pairs.extend(request.form.items(multi=True))
    problem = None
    name = first_unstorable(pairs)
    if name is not None:
        problem = (name, UNSTORABLE)
    elif request.is_json and request.get_data(cache=True):
        problem = first_bad_json_value(request.get_json())
    if problem is not None:
        name, message = problem
        raise ValidationFailed(f"Field {name}: {message}", {name: message})


def init_app(app):
    from designer.views import assets
    from designer.views import register_blueprints
    from designer.views.times import when

    app.json = CheckedJSON(app)
    app.request_class = CheckedRequest
    # `flask run` serves through Werkzeug's handler, which has no setting for this.
    WSGIRequestHandler.version_string = server_name_only
    app.session_interface = SessionCookies()
    # Before the input check, so a refused request is logged with its id too.
    serving.init_app(app)
    # Next: nothing else reads input it could choke on.
    app.before_request(refuse_unstorable_input)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    # Flask-Login has no public setting for this; see session_identifier.
    login_manager._session_identifier_generator = session_identifier
    limiter.init_app(app)
    # Only decorated views are limited (sign-in, sign-up), and they check their limits
    # when called. The limiter's own check before every request finds nothing else to do,
    # yet it cost a lock heartbeat about a tenth of its time.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    trusted = int(app.config["TRUSTED_PROXIES"])
    if trusted:
        # Only behind this many proxies of our own are X-Forwarded-* believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)
    csrf.init_app(app)
    htmx.init_app(app)
    for key, value in ASSET_COMPRESSION.items():
        app.config.setdefault(key, value)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", CompressedAssets)
    app.config.setdefault("COMPRESS_CACHE_KEY", compressed_asset_key)
    compress.init_app(app)
    register_blueprints(app)
    assets.init_app(app)
    app.cli.add_command(users_cli)
    app.cli.add_command(locks_cli)
    app.before_request(sweep_expired_locks)
    if not app.testing:
        app.before_request(load_in_background)
    error_pages.register(app)
    app.after_request(add_headers)
    memory.init_app(app)
    app.jinja_env.globals["pg_type"] = pg_type
    app.jinja_env.globals["enum_choices"] = enums.choices
    app.jinja_env.globals["shown_type"] = enums.shown_type
    app.jinja_env.globals["generated_text"] = fields.generated_text
    app.jinja_env.globals["exact_type_words"] = list(EXACT_TYPES)
    app.jinja_env.globals["settings_words"] = settings_words
    app.jinja_env.globals["when"] = when
    app.jinja_env.globals["field_line_html"] = field_lines.field_line
    app.jinja_env.globals["field_items_html"] = field_lines.field_items


# Files anyone may cache; every other answer may carry someone's data.
CACHEABLE_ENDPOINTS = {"static", "assets.vendor", "assets.fingerprinted"}
HSTS = "max-age=31536000; includeSubDomains"


def add_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if not is_api_request():
        response.vary.add("HX-Request")
    if g.get("lock_changed"):
        response.headers["HX-Trigger"] = "lock-changed"
    return response
