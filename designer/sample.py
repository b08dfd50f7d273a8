"""The sample project: a small bookshop designed in one click, to explore every part of the
designer with something real in it.

It is read from designer/sample.toml (one declarative description) and built through the
same domain functions a person's clicks call: tables, fields, relationships, constraints
and indexes (designer.design), versions (designer.history.versions) and one table deployed
through the real deploy path (designer.database.deploy). Nothing is inserted behind their backs, so
the result holds to every rule, lands in the activity feed, and a change to those rules
shows up here too. Flask-free.
"""

import pathlib
import tomllib
from dataclasses import dataclass

import psycopg2

from designer import projects
from designer.database import deploy
from designer.database import target
from designer.design import enums
from designer.design import fields
from designer.design import primary_keys
from designer.design import relationships
from designer.design import table_structure
from designer.design import tables
from designer.errors import Conflict
from designer.history import versions
from designer.models import DataTable

DESCRIPTION = pathlib.Path(__file__).with_name("sample.toml")
# Keys of a relationship entry that name tables and fields rather than being form inputs.
NAMING = ("one", "many", "key", "foreign")


@dataclass
class Sample:
    project: object
    deployed: list
    # Why nothing was deployed (no deploy target, or it refused), to say on the page.
    note: str | None = None


def description():
    with DESCRIPTION.open("rb") as file:
        return tomllib.load(file)


def create_sample(user):
    """A new project holding the sample design; returns a Sample."""
    plan = description()
    project = projects.create_project(user, plan["name"], plan["description"])
    built = Builder(user, project)
    for chapter in plan["chapters"]:
        built.chapter(chapter)
    return Sample(project, built.deployed, built.note)


class Builder:
    def __init__(self, user, project):
        self.user = user
        self.project = project
        self.deployed = []
        self.note = None
        self.enums = {}

    def table(self, table_name):
        return DataTable.get(
            DataTable.project == self.project.id, DataTable.table_name == table_name
        )

    def field(self, table_name, field_name):
        table = self.table(table_name)
        return next(f for f in tables.ordered_fields(table.id) if f.field_name == field_name)

    def chapter(self, chapter):
        for spec in chapter.get("enums", ()):
            made = enums.create_enum(self.user, self.project.id, spec["name"], spec["labels"])
            self.enums[spec["name"]] = str(made.id)
        for spec in chapter.get("tables", ()):
            self.add_table(spec)
        for spec in chapter.get("keys", ()):
            self.choose_key(spec)
        for change in chapter.get("changes", ()):
            field = self.field(change["table"], change["field"])
            fields.update_field(self.user, field.id, field.revision, change["set"], partial=True)
        for spec in chapter.get("relationships", ()):
            self.link(spec)
        for spec in chapter.get("structure", ()):
            data = {key: value for key, value in spec.items() if key not in ("table", "kind")}
            table_structure.save_item(self.user, self.table(spec["table"]).id, spec["kind"], data)
        versions.save_version(self.user, self.project.id, chapter["message"])
        for table_name in chapter.get("deploy", ()):
            self.deploy(table_name)

    def add_table(self, spec):
        if "extend" in spec:
            table = self.table(spec["extend"])
        else:
            table = tables.create_table(
                self.user, self.project.id, spec["name"], spec.get("table_name"),
                spec.get("description", ""),
            )  # fmt: skip
        for field in spec.get("fields", ()):
            if "enum" in field:  # an enum of the sample, by its name
                field = {**field, "enum_id": self.enums[field["enum"]]}
                field.pop("enum")
            fields.create_field(self.user, table.id, field)

    def choose_key(self, spec):
        """The table's own primary key (columns in key order), as the table page chooses it;
        then, with "drop_id", the designer's id goes, as its Delete does."""
        table = self.table(spec["table"])
        chosen = [str(self.field(spec["table"], name).id) for name in spec["columns"]]
        primary_keys.set_primary_key(self.user, table.id, chosen)
        if spec.get("drop_id"):
            fields.delete_field(self.user, self.field(spec["table"], "id").id)

    def link(self, spec):
        data = {key: value for key, value in spec.items() if key not in NAMING}
        data["source_table_id"] = str(self.table(spec["one"]).id)
        data["target_table_id"] = str(self.table(spec["many"]).id)
        if "key" in spec:
            data["source_field_id"] = str(self.field(spec["one"], spec["key"]).id)
        if "foreign" in spec:
            data["target_field_id"] = str(self.field(spec["many"], spec["foreign"]).id)
        relationships.create_relationship(self.user, self.project.id, data)

    def deploy(self, table_name):
        """Activate (and so deploy) a table; without a reachable target, say why instead."""
        table = self.table(table_name)
        try:
            target.target_url()
            deploy.transition(self.user, table.id, "active")
        except target.NoTarget:
            self.note = self.note or (
                f"No deploy target is configured, so {table_name} was not deployed: set "
                "DEPLOY_DATABASE_URL (the README's Deploy target section says how), then "
                "activate it."
            )
        except (Conflict, psycopg2.Error) as exc:
            said = getattr(exc, "message", None) or target.first_line(exc)
            self.note = self.note or f"{table_name} could not be deployed: {said}"
        else:
            self.deployed.append(table_name)
