"""The database the tests and benches use in-process: requests run as the app's role, bound
by row-level security; the code around them (seeding users and projects directly, reading rows
back to check them) runs as a superuser, as a fixture loader would."""

from flask import has_request_context

from designer import db


class RequestsUnderRLS:
    """While a request is handled (test client or live server thread), the app's pool;
    otherwise the superuser's. Registered as the pool of the app's URL, so every app created
    from that URL routes so."""

    def __init__(self, app_pool, admin_pool):
        self.app_pool = app_pool
        self.admin_pool = admin_pool

    def close_all(self):
        self.app_pool.close_all()
        self.admin_pool.close_all()

    def __getattr__(self, name):
        return getattr(self.app_pool if has_request_context() else self.admin_pool, name)


def route(app_url, admin_url):
    """Make open_database(app_url) (so create_app with it) return the router."""
    router = RequestsUnderRLS(db.open_database(app_url), db.open_database(admin_url))
    db._pools[app_url] = router
    return router
