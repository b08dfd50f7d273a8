"""Settings and their changes in plain words, for comparisons and version pages.

A field's settings are a JSON object (field_config); people read them as
"unique, indexed, at least 3 characters", and a change to them as "max length
120 → 200; now unique", never as raw JSON.
"""

# How each setting reads, in the order a person lists them.
LABELS = {
    "text_type": "text type",
    "number_type": "number type",
    "date_type": "date type",
    "named_type": "type",
    "time_precision": "fractional digits",
    "array_dimensions": "array dimensions",
    "max_length": "max length",
    "min_length": "min length",
    "precision": "precision",
    "scale": "scale",
    "min": "min",
    "max": "max",
    "pattern": "pattern",
    "description": "description",
}
FLAGS = ("unique", "indexed")
HIDDEN = ("system", "primary_key", "unique_with", "enum_id")
# A junction's second key is unique together with the first: each pair appears once.
PAIR = "unique as a pair"
CASCADE_LABELS = {"on_delete": "on delete", "on_update": "on update"}


TYPE_KEYS = (
    "text_type", "number_type", "date_type", "max_length", "precision", "scale", "named_type",
    "time_precision", "array_dimensions",
)  # fmt: skip


def settings_words(config, with_type=False):
    """["unique", "indexed", "min length 3", "pattern ^[a-z]+$"]: what a field's
    settings say, flags first; the type's own settings only `with_type` (a
    field line shows the PostgreSQL type beside them)."""
    config = config or {}
    words = [flag for flag in FLAGS if config.get(flag)]
    if config.get("unique_with"):
        words.append(PAIR)
    for key, label in LABELS.items():
        if key in TYPE_KEYS and not with_type:
            continue
        if config.get(key) not in (None, ""):
            words.append(f"{label} {_plain(config[key])}")
    return words


def config_change_words(before, after):
    """ "max length 120 → 200; now unique; pattern removed" for two field_configs."""
    before, after = before or {}, after or {}
    parts = []
    for flag in FLAGS:
        if bool(before.get(flag)) != bool(after.get(flag)):
            parts.append(f"now {flag}" if after.get(flag) else f"no longer {flag}")
    if bool(before.get("unique_with")) != bool(after.get("unique_with")):
        parts.append(f"now {PAIR}" if after.get("unique_with") else f"no longer {PAIR}")
    for key in dict.fromkeys([*LABELS, *sorted(set(before) | set(after))]):
        if key in FLAGS or key in HIDDEN:
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        label = LABELS.get(key, key.replace("_", " "))
        if old in (None, ""):
            parts.append(f"{label} {_plain(new)}")
        elif new in (None, ""):
            parts.append(f"{label} removed")
        else:
            parts.append(f"{label} {_plain(old)} → {_plain(new)}")
    return "; ".join(parts) or "no visible change"


def cascade_change_words(before, after):
    """ "on delete no action → cascade" for two cascade_configs."""
    before, after = before or {}, after or {}
    parts = []
    for key, label in CASCADE_LABELS.items():
        old, new = before.get(key, "no_action"), after.get(key, "no_action")
        if old != new:
            parts.append(f"{label} {old.replace('_', ' ')} → {new.replace('_', ' ')}")
    return "; ".join(parts) or "no visible change"


def key_words(structure):
    """A table's primary key as its structure says it (field ids are not words)."""
    key = (structure or {}).get("primary_key") if isinstance(structure, dict) else None
    if key is None:
        return "the designer's id"
    if not isinstance(key, list) or not key:
        return "none"
    return f"{len(key)} chosen column{'s' if len(key) != 1 else ''}"


def attribute_change_words(attr, before, after):
    """One changed attribute of a table, field or relationship, as words."""
    settings = all(isinstance(value, dict | None) for value in (before, after))
    if attr == "field_config" and settings:
        return config_change_words(before, after)
    if attr == "cascade_config" and settings:
        return cascade_change_words(before, after)
    if attr == "structure" and settings:
        return structure_change_words(before, after)
    if attr == "is_required":
        return "now required" if after else "now optional"
    label = attr.replace("_", " ")
    if before in (None, ""):
        return f"{label} set to {_plain(after)}"
    if after in (None, ""):
        return f"{label} removed"
    return f"{label} {_plain(before)} → {_plain(after)}"


STRUCTURE_NOUNS = {"uniques": "unique constraint", "checks": "check", "indexes": "index"}
# What an item is beside its name and comment (designer.design.structure).
ITEM_IDENTITY = ("id", "name", "comment")


def structure_change_words(before, after):
    """ "unique constraint orders_pair_key added; index by_note renamed to by_text" for two
    table structures: each item by its id, so a new name is a rename."""
    before, after = before or {}, after or {}
    parts = []
    for kind, noun in STRUCTURE_NOUNS.items():
        old, new = before.get(kind) or {}, after.get(kind) or {}
        for item_id in sorted(old.keys() | new.keys()):
            was, now = old.get(item_id), new.get(item_id)
            called = f"{noun} {(now or was).get('name') or '(generated name)'}"
            if was is None:
                parts.append(f"{called} added")
            elif now is None:
                parts.append(f"{called} dropped")
            else:
                parts += item_change_words(noun, was, now)
    for key in sorted((before.keys() | after.keys()) - STRUCTURE_NOUNS.keys()):
        if key == "primary_key" and before.get(key) != after.get(key):
            parts.append(f"primary key {key_words(before)} → {key_words(after)}")
        elif key in ("partition_by", "partition_of") and before.get(key) != after.get(key):
            parts.append(partition_words(key, before.get(key), after.get(key)))
        elif before.get(key) != after.get(key):
            parts.append(f"{key.replace('_', ' ')} changed")
    return "; ".join(parts) or "no visible change"


def partition_words(key, was, now):
    """A partition key or a partition's bound changed, as words (ids are not words)."""
    if key == "partition_by":
        if not now:
            return "no longer partitioned"
        if not was:
            return f"partitioned by {_plain(now.get('method'))}"
        return f"partition key changed ({_plain(was.get('method'))} → {_plain(now.get('method'))})"
    if not now or not was:
        return "now a partition" if now else "no longer a partition"
    if was.get("table_id") != now.get("table_id"):
        return "partition of another table"
    return f"bound {_plain(was.get('bound'))} → {_plain(now.get('bound'))}"


def item_change_words(noun, was, now):
    parts = []
    if was.get("name") != now.get("name"):
        old, new = was.get("name") or "(generated name)", now.get("name") or "(generated name)"
        parts.append(f"{noun} {old} renamed to {new}")
    called = f"{noun} {now.get('name') or '(generated name)'}"
    meaning = [k for k in (was.keys() | now.keys()) if k not in ITEM_IDENTITY]
    if any(was.get(k) != now.get(k) for k in meaning):
        parts.append(f"{called} redefined")
    if was.get("comment") != now.get("comment"):
        parts.append(f"comment on {called} {'removed' if not now.get('comment') else 'changed'}")
    return parts


SHOWN_CHARACTERS = 80


def _plain(value):
    """A value as a person would type it; long text ends in an ellipsis."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    if len(text) > SHOWN_CHARACTERS:
        return text[: SHOWN_CHARACTERS - 1] + "…"
    return text
