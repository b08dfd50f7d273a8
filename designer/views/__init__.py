"""HTML blueprints (one per resource) and the JSON API."""

from flask import redirect
from flask import render_template
from flask import url_for
from flask_htmx import make_response as htmx_response
from jinja2_fragments.flask import render_block
from jinja2_fragments.flask import render_blocks

from designer.web import htmx


def page_or_block(template, block_name, status=200, **context):
    """The named block for htmx requests, the whole page otherwise."""
    if htmx:
        return render_block(template, block_name, **context), status
    return render_template(template, **context), status


def block(template, block_name, status=200, **context):
    """Just the named block (for partial-only URLs such as form blocks)."""
    return render_block(template, block_name, **context), status


def blocks(template, block_names, status=200, **context):
    """Several blocks in one response: the main one plus out-of-band updates."""
    return render_blocks(template, block_names, **context), status


def go(endpoint, **values):
    """Navigate: HX-Location for htmx requests, a plain redirect otherwise."""
    url = url_for(endpoint, **values)
    if htmx:
        return htmx_response("", location=url)
    return redirect(url)


def register_blueprints(app):
    from designer.views import api
    from designer.views import api_projects  # noqa: F401  (routes on api.bp)
    from designer.views import assets
    from designer.views import auth
    from designer.views import members
    from designer.views import projects
    from designer.views import tokens

    for module in (assets, auth, projects, members, tokens):
        app.register_blueprint(module.bp)
    app.register_blueprint(api.bp)
