"""The sample project: one click designs a small bookshop through the domain functions, with
versions, a junction and one table deployed to the project's own schema."""

from designer import sample
from designer.activity import recent
from designer.database import plans
from designer.design import field_types
from designer.design.relationships import ACTIONS
from designer.design.structure import KINDS
from designer.design.tables import structure_of
from designer.history import versions
from designer.models import DataField
from designer.models import DataTable
from designer.models import Deployment
from designer.models import Project
from designer.models import TableRelationship
from designer.settings import settings
from tests.on_target import on_target


def test_the_sample_is_a_real_design_with_versions_and_one_deployed_table(alice):
    made = sample.create_sample(alice)
    project = made.project
    assert made.note is None and made.deployed == ["customers", *KEYED]
    by_name = {t.table_name: t for t in DataTable.select().where(DataTable.project == project.id)}
    assert sorted(by_name) == [
        "authors", "book_authors", "books", "customers", "order_lines", "orders", "publishers",
        "reviews", "shelves", "stock_levels", "stores",
    ]  # fmt: skip
    assert by_name["customers"].status == "active" and by_name["customers"].deployed_at
    assert {t.status for n, t in by_name.items() if n not in ("customers", *KEYED)} == {"draft"}
    # The junction: required keys to both sides, the pair unique.
    junction = {f.field_name: f for f in by_name["book_authors"].fields}
    assert junction["book_id"].is_required and junction["author_id"].is_required
    assert junction["book_id"].field_config.get("unique_with") or junction[
        "author_id"
    ].field_config.get("unique_with")
    links = TableRelationship.select().where(TableRelationship.project == project.id)
    assert links.count() == 11
    # Saved versions with real changes between them (and the deploy's own).
    saved, _ = versions.page_of(project.id)
    messages = [v.message for v in reversed(saved)]
    assert messages == [
        "First sketch: books, their authors and publishers, and customers", "Deployed",
        "Orders and reviews", "Dearer books, titles found faster, and a marketing opt-in",
        "Shops and their shelves: keys of our own", "Deployed", "Deployed", "Deployed",
    ]  # fmt: skip
    assert all(v.change_summary for v in saved)
    # The deployed table is on the target, in the project's schema...
    schema = Project.get_by_id(project.id).target_schema
    columns = on_target(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'customers' ORDER BY ordinal_position",
        (schema,),
    )
    assert [c for (c,) in columns] == [
        "id", "email", "display_name", "joined_at", "loyalty_points", "newsletter",
    ]  # fmt: skip
    assert Deployment.select().where(Deployment.project == project.id).count() == 4
    # ...and the opt-in added since is waiting on the Deploy tab.
    pending = plans.plan_for(alice, project.id).steps
    assert any("marketing_opt_in" in step.sql for step in pending)
    assert len(recent(project.id, 100)) > 30


KEYED = ["stores", "shelves", "stock_levels"]


def test_the_sample_deploys_keys_of_its_own_an_enum_and_a_composite_foreign_key(alice):
    """A natural key, a composite key, a uuid key PostgreSQL fills and a foreign key over
    two columns, read back from pg_catalog as deployed."""
    made = sample.create_sample(alice)
    schema = Project.get_by_id(made.project.id).target_schema
    constraints = on_target(
        "SELECT c.relname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k"
        " JOIN pg_class c ON c.oid = k.conrelid WHERE k.connamespace = %s::regnamespace"
        " AND c.relname = ANY(%s) AND k.contype IN ('p', 'f') ORDER BY 1, 2, 3",
        (schema, KEYED),
    )
    constraints = [(t, k, d.replace(f"{schema}.", "")) for t, k, d in constraints]
    assert constraints == [
        ("shelves", "f", "FOREIGN KEY (store_code) REFERENCES stores(code) ON UPDATE CASCADE"),
        ("shelves", "p", "PRIMARY KEY (store_code, shelf_no)"),
        ("stock_levels", "f", "FOREIGN KEY (shelf_store_code, shelf_no) REFERENCES"
         " shelves(store_code, shelf_no) ON UPDATE CASCADE ON DELETE CASCADE"),
        ("stock_levels", "p", "PRIMARY KEY (ref)"),
        ("stores", "p", "PRIMARY KEY (code)"),
    ]  # fmt: skip
    columns = on_target(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),"
        " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE c.relnamespace = %s::regnamespace AND c.relname = ANY(%s) AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        (schema, KEYED),
    )
    assert [(t, c) for t, c, *_ in columns if c == "id"] == [], "no designer's id"
    typed = {
        (t, c): (kind.replace(f"{schema}.", ""), (default or "").replace(f"{schema}.", ""))
        for t, c, kind, default in columns
    }
    assert typed[("stock_levels", "ref")] == ("uuid", "gen_random_uuid()")
    assert typed[("stock_levels", "state")] == ("stock_state", "'in_stock'::stock_state")
    # The foreign key's columns have their keys' exact types.
    assert typed[("stock_levels", "shelf_store_code")][0] == "character varying(8)"
    assert typed[("stock_levels", "shelf_no")][0] == "smallint"
    labels = on_target(
        "SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e"
        " JOIN pg_type t ON t.oid = e.enumtypid"
        " WHERE t.typnamespace = %s::regnamespace AND t.typname = 'stock_state'",
        (schema,),
    )
    assert labels == [(["in_stock", "running_low", "sold_out"],)]


def test_every_type_and_setting_the_field_form_offers_is_in_the_sample(alice):
    made = sample.create_sample(alice)
    project_fields = list(
        DataField.select().join(DataTable).where(DataTable.project == made.project.id)
    )
    used = set()
    for field in project_fields:
        config = field.field_config
        used.add(("type", field.data_type))
        used |= {("setting", key) for key, value in config.items() if value not in (False, None)}
        used.add(("number_type", config.get("number_type")))
        used.add(("date_type", config.get("date_type")))
        used |= {("setting", "is_required")} if field.is_required else set()
        used |= {("setting", "default_value")} if field.default_value is not None else set()
    offered = {("type", t) for t in field_types.SETTINGS_CLEANERS}
    offered |= {("number_type", t) for t in field_types.NUMBER_TYPES}
    offered |= {("date_type", t) for t in field_types.DATE_TYPES}
    for settings_of_type in field_types.TYPE_SETTINGS.values():
        offered |= {("setting", s) for s in settings_of_type}
    offered |= {("setting", s) for s in field_types.COMMON_SETTINGS}
    offered |= {("setting", "is_required"), ("setting", "default_value")}
    # VIRTUAL generated columns need PostgreSQL 18: the sample deploys on older servers too.
    assert offered - used == {("setting", "virtual")}, "add fields using these to sample.toml"
    # Constraints and indexes of the table pages' kinds, and of several shapes.
    made_tables = DataTable.select().where(DataTable.project == made.project.id)
    structures = [structure_of(t.id) for t in made_tables]
    assert {kind for s in structures for kind, found in s.items() if found} >= set(KINDS)
    indexes = [i for s in structures for i in s.get("indexes", {}).values()]
    assert {i["method"] for i in indexes} == {"btree", "hash", "brin"}
    keys = [k for i in indexes for k in i["keys"]]
    assert any(k["expression"] for k in keys) and any(k["descending"] for k in keys)
    assert any(i["where"] for i in indexes) and any(i["include"] for i in indexes)
    rules = TableRelationship.select().where(TableRelationship.project == made.project.id)
    actions = {rule.cascade_config[event] for rule in rules for event in ("on_delete", "on_update")}
    # set_default needs a foreign key with a default, which no bookshop key has.
    assert set(ACTIONS) - actions == {"set_default"}


def test_the_projects_page_offers_it_and_opens_it(alice, signed_in):
    client = signed_in(alice)
    empty = client.get("/projects", htmx=False).text
    assert "No projects yet" in empty and "Try a sample" in empty
    opened = client.post("/projects/sample", htmx=False, follow_redirects=True)
    assert opened.status_code == 200
    assert "Bookshop (sample)" in opened.text and "every tab has something in it" in opened.text
    # Once projects exist, the new-project form still offers it.
    listed = client.get("/projects", htmx=False).text
    assert "Try a sample" not in listed
    assert "Try a sample" in client.get("/projects/new").text
    assert "Try a sample" in client.get("/projects/new", htmx=False).text


def test_without_a_deploy_target_the_page_says_so(alice, signed_in, monkeypatch):
    monkeypatch.setattr(settings, "deploy_database_url", None)
    client = signed_in(alice)
    opened = client.post("/projects/sample", htmx=False, follow_redirects=True)
    assert opened.status_code == 200
    assert "No deploy target is configured, so customers was not deployed" in opened.text
    project = Project.get(Project.name == "Bookshop (sample)")
    assert not Deployment.select().where(Deployment.project == project.id).exists()
    assert DataTable.get(DataTable.table_name == "customers").status == "draft"
    assert versions.latest(project.id).version_number == 4


def test_anonymous_and_forged_requests_create_nothing(alice, signed_in):
    anonymous = signed_in().post("/projects/sample", htmx=False)
    assert anonymous.status_code in (302, 400, 401)
    forged = signed_in(alice)
    forged.token = "forged"
    assert forged.post("/projects/sample", htmx=False).status_code in (400, 403)
    assert not Project.select().exists()


def test_the_api_creates_it_too(alice, api):
    client = api(alice)
    made = client.post("/projects/sample")
    assert made.status_code == 201, made.json
    assert made.json["name"] == "Bookshop (sample)" and made.json["role"] == "owner"
    assert made.json["deployed"] == ["customers", *KEYED] and made.json["note"] is None
    tables = client.get(f"/projects/{made.json['id']}/tables").json
    assert len(tables["tables"]) == 11
    refused = client.post("/projects/sample", json={"tables": 100})
    assert refused.status_code == 422
    assert Project.select().count() == 1
