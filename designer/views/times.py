"""Moments shown to people: in their own time zone, with UTC in the tooltip.

The server writes the UTC time (the page reads right without scripts); app.js rewrites the
text in the browser's zone. Registered as the template global `when`.
"""

import datetime

from markupsafe import Markup

SHAPES = {
    "minute": "%Y-%m-%d %H:%M",
    "second": "%Y-%m-%d %H:%M:%S",
    "clock": "%H:%M:%S",
}


def when(moment, shape="minute"):
    """A <time> element for `moment` (aware, or naive UTC); '' for None."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    utc = moment.astimezone(datetime.UTC)
    stamp = utc.isoformat().replace("+00:00", "Z")
    text = f"{utc.strftime(SHAPES[shape])} UTC"
    title = f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    # Markup.format escapes every value: the element is ours, its contents are data.
    element = Markup('<time datetime="{}" data-local="{}" title="{}">{}</time>')
    return element.format(stamp, shape, title, text)
