"""Domain errors: raised by the Flask-free modules, rendered by the views."""


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, fields=None, **details):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
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


class Locked(DomainError):
    status = 423
    code = "locked"


class Busy(DomainError):
    """Too much of something expensive is running at once; try again shortly."""

    status = 503
    code = "busy"
