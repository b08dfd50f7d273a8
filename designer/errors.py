"""Domain errors: raised by the Flask-free modules, rendered by the views."""


def printable(text):
    """`text` with any lone surrogate written as its escape (`\\ud800`): an error message
    may quote user input (a JSON string can hold one), and UTF-8 cannot encode it."""
    if not isinstance(text, str):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, fields=None, **details):
        message = printable(message)
        super().__init__(message)
        self.message = message
        self.fields = {printable(k): printable(v) for k, v in (fields or {}).items()}
        self.details = details


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class StaleRevision(DomainError):
    """Someone saved the row since the form was opened; details carry the current row."""

    status = 412
    code = "stale_revision"


class ValidationFailed(DomainError):
    status = 422
    code = "validation"


class TooLarge(ValidationFailed):
    """Input beyond a size the designer reads (an import's bytes): refused before reading."""

    status = 413
    code = "too_large"


class Locked(DomainError):
    status = 423
    code = "locked"


class Busy(DomainError):
    """Too much of something expensive is running at once; try again shortly."""

    status = 503
    code = "busy"
