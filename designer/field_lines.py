"""A column as the version and compare pages show it, written in Python: a version page
shows 50 tables of some 21 columns each, and the Jinja macro that wrote each line took most
of the page's time (about 60% of it at 120 tables, profiled)."""

from markupsafe import Markup
from markupsafe import escape

from designer.design.field_types import pg_type
from designer.history.change_words import settings_words


def field_line(field):
    """`<code>name</code> type <small>pg type, required, default …, settings</small>`."""
    config = field.get("field_config")
    words = [pg_type(field.get("data_type"), config)]
    if field.get("is_required"):
        words.append("required")
    if field.get("default_value") is not None:
        words.append(f"default {field['default_value']}")
    words.extend(settings_words(config))
    # Every value is escaped here (Markup.format, which would escape them too, took as long
    # as the macro).
    name, kind = escape(field.get("field_name", "")), escape(field.get("data_type", ""))
    shown = ", ".join(escape(w) for w in words)
    return Markup(f'<code>{name}</code> {kind} <small class="muted">{shown}</small>')  # noqa: S704


def field_items(fields):
    """Each of a table's columns (by id) as an <li>, in their order."""
    ordered = sorted(fields.values(), key=lambda f: f["sort_order"])
    return Markup("".join(f"<li>{field_line(f)}</li>" for f in ordered))  # noqa: S704
