"""Sign-up, sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user

from designer import accounts
from designer import api_tokens
from designer.errors import ValidationFailed
from designer.signin_limits import signin_limited
from designer.signin_limits import signup_limited

bp = Blueprint("auth", __name__)


def safe_next(target):
    """Only same-site paths: never an open redirect."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("projects.index")


def start_session(user):
    """Sign in: a fresh session bound to the user's epoch, with a new CSRF token."""
    session.clear()
    g.pop("csrf_token", None)
    login_user(user)
    session["epoch"] = user.session_epoch


def end_session():
    """Sign out this browser; the epoch moves on, so no copy of the cookie works either."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
    logout_user()
    session.clear()
    g.pop("csrf_token", None)


@bp.route("/signup", methods=["GET", "POST"])
@signup_limited
def signup():
    """Create an account and sign in."""
    form, errors = {}, {}
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in ("username", "email", "password")}
        try:
            user = accounts.create_user(**form)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            start_session(user)
            return redirect(url_for("projects.index"))
    status = 422 if errors else 200
    return render_template("auth/signup.html", form=form, errors=errors), status


@bp.route("/login", methods=["GET", "POST"])
@signin_limited
def login():
    """Sign in with username (or email) and password."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form, error = {}, None
    if request.method == "POST":
        form = {"username": request.form.get("username", "")}
        user = accounts.authenticate(form["username"], request.form.get("password", ""))
        if user is not None:
            start_session(user)
            return redirect(safe_next(request.form.get("next")))
        error = "Wrong username or password."
    status = 401 if error else 200
    return render_template(
        "auth/login.html", form=form, error=error, next=request.values.get("next", "")
    ), status


@bp.post("/logout")
def logout():
    """Sign out."""
    end_session()
    return redirect(url_for("auth.login"))


@bp.get("/account")
@login_required
def account():
    """The account page: who you are, your sessions, your API tokens."""
    token_count = len(api_tokens.tokens_of(current_user))
    return render_template("auth/account.html", token_count=token_count)


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of this account, in every browser, this one included; and, when
    asked, revoke its API tokens too."""
    revoked = 0
    if request.form.get("revoke_tokens") == "yes":
        revoked = api_tokens.revoke_all(current_user)
    end_session()
    tokens = f" and {revoked} API token{'s' if revoked != 1 else ''} revoked" if revoked else ""
    flash(f"You were signed out in every browser{tokens}.", "info")
    return redirect(url_for("auth.login"))
