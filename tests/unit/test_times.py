"""Moments are written in UTC for the browser to show in the reader's zone."""

import datetime

from designer.views.times import when

BERLIN = datetime.timezone(datetime.timedelta(hours=1))


def test_a_moment_is_written_in_utc_with_utc_in_its_tooltip():
    moment = datetime.datetime(2026, 3, 1, 9, 5, 7, tzinfo=BERLIN)
    assert str(when(moment)) == (
        '<time datetime="2026-03-01T08:05:07Z" data-local="minute"'
        ' title="2026-03-01 08:05:07 UTC">2026-03-01 08:05 UTC</time>'
    )
    assert ">08:05:07 UTC<" in str(when(moment, "clock"))


def test_a_naive_moment_is_taken_as_utc_and_none_is_nothing():
    assert 'datetime="2026-03-01T09:05:00Z"' in when(datetime.datetime(2026, 3, 1, 9, 5))
    assert when(None) == ""
