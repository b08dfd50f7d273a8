"""The version page's column lines, written in Python, say exactly what the Jinja macro they
replace said (the macro is kept here as it was)."""

import jinja2

from designer import field_lines
from designer.design.field_types import pg_type
from designer.history.change_words import settings_words

MACRO = """{% macro field_line(field) -%}
  <code>{{ field.field_name }}</code> {{ field.data_type }} <small class="muted">{{ pg_type(field.data_type, field.field_config) }}{% if field.is_required %}, required{% endif %}{% if field.default_value is not none %}, default {{ field.default_value }}{% endif %}
    {%- for words in settings_words(field.field_config) %}, {{ words }}{% endfor %}</small>
{%- endmacro %}
<ul class="plain">{% for field in fields.values() | sort(attribute="sort_order") %}<li>{{ field_line(field) }}</li>{% endfor %}</ul>"""  # noqa: E501

FIELDS = {
    "a": {"field_name": "email", "data_type": "text", "is_required": True, "sort_order": 2,
          "default_value": None, "field_config": {"text_type": "varchar", "max_length": 120,
                                                  "unique": True, "pattern": "^<a&b>$"}},
    "b": {"field_name": "total<script>", "data_type": "number", "is_required": False,
          "sort_order": 1, "default_value": "'0' & <1>",
          "field_config": {"number_type": "numeric", "precision": 10, "scale": 2,
                           "indexed": True}},
    "c": {"field_name": "seen", "data_type": "boolean", "is_required": False, "sort_order": 3,
          "default_value": "false", "field_config": {}},
    "d": {"field_name": "at", "data_type": "date", "is_required": True, "sort_order": 0,
          "default_value": None, "field_config": None},
}  # fmt: skip


def test_the_lines_are_the_macros():
    env = jinja2.Environment(autoescape=True)
    env.globals.update(pg_type=pg_type, settings_words=settings_words)
    expected = env.from_string(MACRO).render(fields=FIELDS).strip()
    assert f'<ul class="plain">{field_lines.field_items(FIELDS)}</ul>' == expected
    assert "&lt;script&gt;" in expected and "&amp;" in expected
