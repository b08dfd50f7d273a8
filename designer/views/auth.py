"""Sign-up, sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user

from designer import accounts
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
            login_user(user)
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
            login_user(user)
            return redirect(safe_next(request.form.get("next")))
        error = "Wrong username or password."
    status = 401 if error else 200
    return render_template(
        "auth/login.html", form=form, error=error, next=request.values.get("next", "")
    ), status


@bp.post("/logout")
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("auth.login"))
