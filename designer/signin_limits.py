"""Rate limits on signing in and signing up, per account and per client (Flask-Limiter).

Only failed attempts count against sign-in, so people who type their password
right are never slowed down; once an account or a client has failed too often,
every attempt (the right password too) gets 429 with Retry-After until the
window has passed. The store is in memory by default; RATELIMIT_STORAGE_URI
(e.g. redis://host:6379) shares it between several app servers.
"""

import time

from flask import current_app
from flask import g
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from designer import accounts

limiter = Limiter(key_func=get_remote_address, strategy="moving-window")


def submitted_account():
    """The limit's key for the account an attempt names (form or JSON): the account's id,
    whichever of its logins was typed, so its username and its email share one budget. A
    login naming no account is keyed on its folded text, and is limited all the same."""
    if "signin_account" not in g:
        g.signin_account = account_key(typed_login())
    return g.signin_account


def typed_login():
    if request.is_json:
        data = request.get_json(silent=True)
        login = data.get("username") if isinstance(data, dict) else None
    else:
        login = request.form.get("username")
    return str(login or "").strip().lower()[:254]


def account_key(login):
    account = accounts.account_of(login) if login else None
    return f"account:{account.id}" if account else f"login:{login}"


def failed_signin(response):
    return response.status_code == 401


def any_attempt(response):
    return response.status_code != 429


def config_value(key):
    return lambda: current_app.config[key]


def limited(scope, count):
    """Limit a view per account and per client, by the settings <SCOPE>_ACCOUNT_LIMIT and
    <SCOPE>_CLIENT_LIMIT (e.g. "10 per 15 minutes"); `count(response)` says which attempts
    count. Views sharing a scope share the budget."""

    def decorate(view):
        for per, key_func in (("account", submitted_account), ("client", get_remote_address)):
            view = limiter.shared_limit(
                config_value(f"{scope.upper()}_{per.upper()}_LIMIT"),
                scope=f"{scope}-{per}",
                key_func=key_func,
                methods=["POST"],
                deduct_when=count,
            )(view)
        return view

    return decorate


def signin_limited(view):
    """Sign-in (the page and API tokens share the budget): failed attempts count."""
    return limited("signin", failed_signin)(view)


def signup_limited(view):
    """Sign-up: every attempt counts."""
    return limited("signup", any_attempt)(view)


def retry_after_seconds():
    """Whole seconds until the limit that refused this request lets one through again."""
    hit = limiter.current_limit
    if hit is None:
        return 1
    return max(1, int(hit.reset_at - time.time()))
