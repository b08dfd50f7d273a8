"""An import plan's findings arranged for people to read: counted by kind, grouped by
table, the same finding on several columns folded into one line with a count, and the
statements that are not part of a design counted on one line.

The readers word each finding; this module only arranges them (the JSON API keeps the
plain list). Pure: no database, no Flask.
"""

import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from designer.interchange.import_source import IGNORED
from designer.interchange.import_source import IMPERFECT
from designer.interchange.import_source import UNREPRESENTABLE

SECTIONS = (
    (UNREPRESENTABLE, "Cannot be represented"),
    (IMPERFECT, "Maps imperfectly"),
)
# Ignored findings say "<statement> is not part of a design": the statement is their label.
NOT_PART = " is not part of a design"
LEADING_NAME = re.compile(r"[^.(\s]+")
COMMON_SHOWN = 3


@dataclass
class Folded:
    """One finding, or the same finding about several columns of one table."""

    message: str
    subjects: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    count: int = 0


@dataclass
class Group:
    """The findings of one kind about one table, or about several tables that have the
    same findings (tables empty: about other objects: types, functions, views…)."""

    tables: list
    folded: list = field(default_factory=list)

    @property
    def count(self):
        return sum(f.count for f in self.folded)

    def alike(self):
        """What tables must share to be shown as one group: the same findings."""
        return tuple(f.message for f in self.folded) if self.tables else None

    def absorb(self, other):
        self.tables += other.tables
        for mine, theirs in zip(self.folded, other.folded, strict=True):
            mine.count += theirs.count
            mine.subjects += [s for s in theirs.subjects if s not in mine.subjects]
            mine.lines += theirs.lines


@dataclass
class Section:
    kind: str
    heading: str
    groups: list
    common: list

    @property
    def count(self):
        return sum(g.count for g in self.groups)

    @property
    def tables(self):
        return sum(len(g.tables) for g in self.groups)

    @property
    def others(self):
        return sum(g.count for g in self.groups if not g.tables)


@dataclass
class ImportReport:
    sections: list
    ignored: list  # (statement, count), most frequent first

    @property
    def ignored_count(self):
        return sum(count for _, count in self.ignored)


def table_names(plan):
    """The tables the file creates, by the names the file gives them."""
    names = {t["table_name"] for t in plan.snapshot["tables"].values()}
    return names | {r.before for r in plan.renames if r.kind == "table"}


def table_of(subject, tables):
    """The table a finding's subject is about (`film`, `film.title`, `film(x) → y`), or None."""
    match = LEADING_NAME.match(subject or "")
    name = match.group(0) if match else None
    return name if name in tables else None


def detail_of(subject, table):
    """What in the table a subject names (`title` of `film.title`), '' for the table itself."""
    if table is None:
        return subject or ""
    return subject[len(table) :].lstrip(".").strip()


def folded(findings, table):
    """Findings with the same message folded into one entry, in order of first line."""
    entries = {}
    for finding in sorted(findings, key=lambda f: f.line or 0):
        entry = entries.setdefault(finding.message, Folded(finding.message))
        entry.count += 1
        detail = detail_of(finding.subject, table)
        if detail and detail not in entry.subjects:
            entry.subjects.append(detail)
        if finding.line and finding.line not in entry.lines:
            entry.lines.append(finding.line)
    return list(entries.values())


def merged(groups):
    """Groups of tables with the same findings (55 partitions of one table) made one."""
    kept = {}
    for group in groups:
        key = group.alike()
        if key is not None and key in kept:
            kept[key].absorb(group)
        else:
            kept[key if key is not None else id(group)] = group
    return list(kept.values())


def section(kind, heading, findings, tables):
    by_table = {}
    for finding in findings:
        by_table.setdefault(table_of(finding.subject, tables), []).append(finding)
    groups = merged(
        Group([name] if name else [], folded(by_table[name], name))
        for name in sorted(by_table, key=order)
    )
    counts = Counter(f.message for f in findings)
    common = [(message, n) for message, n in counts.most_common(COMMON_SHOWN) if n > 1]
    return Section(kind, heading, groups, common)


def order(name):
    """Tables by name, then the findings about other objects."""
    return (name is None, name or "")


def ignored_label(message):
    return message.removesuffix(NOT_PART)


def report(plan):
    """The ImportReport of an ImportPlan."""
    tables = table_names(plan)
    sections = []
    for kind, heading in SECTIONS:
        findings = [f for f in plan.findings if f.kind == kind]
        if findings:
            sections.append(section(kind, heading, findings, tables))
    ignored = Counter(ignored_label(f.message) for f in plan.findings if f.kind == IGNORED)
    return ImportReport(sections, ignored.most_common())
