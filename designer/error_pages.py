"""Error answers: a JSON error object for the API, an error page (or inline message) else.

Whatever goes wrong, the answer is a clean 4xx where the input or a race is to blame.
"""

from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from flask_wtf.csrf import CSRFError
from peewee import DataError
from peewee import IntegrityError
from peewee import InterfaceError
from peewee import OperationalError
from playhouse.pool import MaxConnectionsExceeded

from designer.db import database
from designer.errors import Busy
from designer.errors import DomainError
from designer.signin_limits import retry_after_seconds


def register(app):
    app.register_error_handler(DomainError, render_domain_error)
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(OperationalError, render_concurrency_error)
    app.register_error_handler(InterfaceError, render_unavailable)
    app.register_error_handler(MaxConnectionsExceeded, render_unavailable)
    app.register_error_handler(DataError, render_data_error)
    app.register_error_handler(IntegrityError, render_integrity_error)
    app.register_error_handler(429, render_too_many)
    for status in (400, 404, 405, 413, 500):
        app.register_error_handler(status, render_http_error)


def is_api_request():
    return request.path.startswith("/api/")


def error_body(status, code, message, fields=None):
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


def render_domain_error(error):
    response = current_app.make_response(domain_error_body(error))
    if isinstance(error, Busy):
        response.headers["Retry-After"] = "1"
    return response


def domain_error_body(error):
    if is_api_request():
        return error_body(error.status, error.code, error.message, error.fields)
    if error.details.get("lost_table"):
        # The browser's lock is gone: drop its token so the next try can lock anew.
        from designer.views import forget_lock

        forget_lock(error.details["lost_table"])
    return render_error_page(error.status, error.message)


def render_csrf_error(error):
    message = "This form has expired. Reload the page and try again; your input was not saved."
    if is_api_request():
        return error_body(400, "csrf", message)
    return render_error_page(400, message)


# Deadlock detected, serialization failure, lock not available.
RETRYABLE = {"40P01", "40001", "55P03"}
# The counter's trigger at commit (migrations/0052) refusing a change to a branch merged
# meanwhile: object_not_in_prerequisite_state, with this message.
MERGED_BRANCH = ("55000", "this branch was merged: its design no longer changes")


def render_concurrency_error(error):
    """A transaction PostgreSQL aborted because another one got in its way: say so (409)."""
    cause = getattr(error, "orig", None) or error.__cause__
    code = getattr(cause, "pgcode", None)
    if code is None or code in UNAVAILABLE or code.startswith("08"):
        return render_unavailable(error)
    if (code, getattr(getattr(cause, "diag", None), "message_primary", None)) == MERGED_BRANCH:
        message = (
            "This branch was merged into its main project while you changed it: its design "
            "no longer changes, and nothing was saved. Make the change on main."
        )
    elif code in RETRYABLE:
        message = "Another change to the same rows got in the way; nothing was saved. Try again."
    else:
        raise error
    if is_api_request():
        return error_body(409, "conflict", message)
    return render_error_page(409, message)


# Shutting down, crashed, starting up (class 08, connection exceptions, counts too).
UNAVAILABLE = {"57P01", "57P02", "57P03"}
RETRY_AFTER_SECONDS = 5


def render_unavailable(error):
    """The database does not answer (restarting, failing over, out of connections): 503.

    Nothing was saved (the transaction died with its connection). The pool's idle
    connections are most likely to the server that went away: they are dropped, so
    the next requests connect afresh instead of each failing once on a dead one.
    """
    current_app.logger.warning("database unavailable: %s", str(error).strip()[:300])
    database.close_idle()
    message = (
        "The database is not answering for a moment; nothing was saved. Try again in a few seconds."
    )
    if is_api_request():
        response = current_app.make_response(error_body(503, "unavailable", message))
    elif request.headers.get("HX-Request") == "true":
        body = without_database("errors/inline.html", status=503, message=message)
        response = current_app.make_response((body, 503))
        response.headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    else:
        body = without_database("errors/unavailable.html", message=message)
        response = current_app.make_response((body, 503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def without_database(template, **context):
    """A template rendered without the context processors: Flask-Login's would load the
    signed-in user from the database that is not answering."""
    return current_app.jinja_env.get_template(template).render(**context)


def render_data_error(error):
    """A value PostgreSQL refused that no check caught first: a 422, never a 500.

    Every write runs in a transaction, so the refused one left nothing behind.
    """
    current_app.logger.warning("database refused a value: %s", error)
    message = "A value could not be stored; nothing was changed. Check the input and try again."
    if is_api_request():
        return error_body(422, "validation", message)
    return render_error_page(422, message)


def render_integrity_error(error):
    """A constraint no check caught first (a race between two writers): 409, never a 500."""
    current_app.logger.warning("database refused a write: %s", error)
    message = "This clashes with data saved meanwhile; nothing was changed. Reload and try again."
    if is_api_request():
        return error_body(409, "conflict", message)
    return render_error_page(409, message)


def render_too_many(error):
    """429 with Retry-After: too many failed sign-ins for this account or from this client."""
    wait = retry_after_seconds()
    message = f"Too many attempts. Try again in {wait} seconds."
    if is_api_request():
        response = current_app.make_response(error_body(429, "too_many_requests", message))
    else:
        response = current_app.make_response(render_error_page(429, message))
    response.headers["Retry-After"] = str(wait)
    return response


def render_http_error(error):
    status = getattr(error, "code", 500) or 500
    messages = {
        400: getattr(error, "description", None) or "The request could not be read.",
        404: "There is nothing at this address.",
        405: "This address does not accept that kind of request.",
        413: "That upload is too large.",
        500: "Something went wrong on our side. Nothing was changed; please try again.",
    }
    message = messages.get(status, "The request could not be handled.")
    if is_api_request():
        code = {400: "bad_request", 404: "not_found", 413: "too_large"}.get(status, "error")
        return error_body(status, code, message)
    return render_error_page(status, message)


def render_error_page(status, message):
    if request.headers.get("HX-Request") == "true":
        # Shown in the page's flash area; the form the user was filling stays as it is.
        body = render_template("errors/inline.html", status=status, message=message)
        return body, status, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    return render_template("errors/page.html", status=status, message=message), status
