"""Tunables the Flask-free modules read; create_app copies them from the config."""

from dataclasses import dataclass


@dataclass
class Settings:
    # A lease outlives two missed heartbeats, and a background tab's timers,
    # which browsers throttle to about one a minute, still renew it in time.
    lock_lease_seconds: float = 120.0
    lock_heartbeat_seconds: float = 20.0
    # How often an open table page asks who holds the lock (others' locks show
    # up this fast), and how often pages look for teammates' changes.
    lock_watch_seconds: float = 5.0
    live_poll_seconds: float = 3.0
    # A page that is left (closed, reloaded, navigated away) cuts its lock's
    # lease to this: a reload takes the lock back, a closed page frees it.
    lock_leave_grace_seconds: float = 5.0
    # An edit form holds its optimistic lock only while the person works in it: this long
    # after their last input it is released (the form keeps what they typed).
    lock_edit_idle_seconds: float = 60.0
    activity_keep: int = 500
    page_size: int = 50
    designer_database_url: str | None = None
    deploy_database_url: str | None = None
    deploy_lock_timeout_ms: int = 5000
    deploy_statement_timeout_ms: int = 60000
    import_allow_urls: bool = False
    # Schemas of the deploy target that no project reserved and users may import anyway.
    import_target_schemas: frozenset = frozenset()
    secret_key: str = ""
    # Schemas of the deploy target whose types (an extension's: PostGIS's geometry, citext) a
    # design may use, besides pg_catalog and its own: each only while no project owns it and
    # no project's role may create objects in it (designer.database.target.type_schemas).
    type_schemas: tuple = ("public", "extensions")
    import_max_bytes: int = 16 * 1024 * 1024
    import_max_dbml_bytes: int = 384 * 1024
    import_max_statements: int = 100_000
    import_max_tables: int = 5_000
    import_max_seconds: float = 8.0
    # Bytes the in-process caches may hold (designer/kept.py estimates answers' sizes): the
    # parsed parts of built snapshots and whole snapshots of versions (sized in JSON text,
    # which parsed takes about three times as much: one 3,000-table version is about 20 MB
    # of text, and the compare and export pages at 3,000 tables rely on keeping it), and all
    # stores of kept answers together (working copies, diffs, plans, exports, drift).
    # These are the defaults create_app gives (designer.ENVIRONMENT reads them from here):
    # the answers' 48 MB is what every bench run has served with (the 192 MB once written
    # here never reached the app), and a worker's RSS after the 30,000-table bench is
    # printed by bench/all_pages.py against the 512 MB a worker may take.
    snapshot_parts_bytes: int = 48 * 1024 * 1024
    version_snapshots_bytes: int = 32 * 1024 * 1024
    cache_bytes: int = 48 * 1024 * 1024
    # After a request leaving the worker this much larger than its last trim, freed memory
    # is given back to the system (designer/memory.py); 0: never.
    malloc_trim_after_bytes: int = 32 * 1024 * 1024
    # Drift's expected catalog kept per deployed table (designer/database/expectations.py):
    # the compressed bytes one project's shares may take in PostgreSQL (some 1.5 KB a table
    # of 20 fields), and how long the request that starts a check building missing shares
    # (on a thread of its own) waits for it before it answers with its progress.
    drift_expected_bytes: int = 64 * 1024 * 1024
    drift_build_seconds: float = 2.0
    # A design of this many tables or more is exported as SQL, DBML or Mermaid by a child
    # process (designer/interchange/export_apart.py), whose memory goes when it ends; a
    # smaller one here, where the pieces of its unchanged tables are kept between files (a
    # child starts with none: at 3,000 tables a file after a one-table change would be
    # written whole again).
    export_apart_tables: int = 5000


settings = Settings()

TIMINGS = (
    "lock_lease_seconds",
    "lock_heartbeat_seconds",
    "lock_watch_seconds",
    "live_poll_seconds",
    "lock_leave_grace_seconds",
    "lock_edit_idle_seconds",
)

IMPORT_LIMITS = (
    "import_max_bytes",
    "import_max_dbml_bytes",
    "import_max_statements",
    "import_max_tables",
    "import_max_seconds",
)

CACHE_BUDGETS = (
    "snapshot_parts_bytes", "version_snapshots_bytes", "cache_bytes", "malloc_trim_after_bytes",
    "drift_expected_bytes", "drift_build_seconds", "export_apart_tables",
)  # fmt: skip


def configure(config):
    for name in TIMINGS:
        setattr(settings, name, float(config[name.upper()]))
    settings.activity_keep = int(config["ACTIVITY_KEEP"])
    settings.designer_database_url = config.get("DATABASE_URL")
    settings.deploy_database_url = config.get("DEPLOY_DATABASE_URL")
    settings.deploy_lock_timeout_ms = int(config["DEPLOY_LOCK_TIMEOUT_MS"])
    settings.deploy_statement_timeout_ms = int(config["DEPLOY_STATEMENT_TIMEOUT_MS"])
    settings.import_allow_urls = bool(config.get("IMPORT_ALLOW_URLS", False))
    listed = config.get("IMPORT_TARGET_SCHEMAS") or ""
    if isinstance(listed, str):
        listed = listed.split(",")
    settings.import_target_schemas = frozenset(n.strip() for n in listed if n.strip())
    settings.secret_key = str(config["SECRET_KEY"])
    listed = config.get("TYPE_SCHEMAS")
    if listed is not None:
        listed = listed.split(",") if isinstance(listed, str) else listed
        settings.type_schemas = tuple(n.strip() for n in listed if n.strip())
    for name in IMPORT_LIMITS + CACHE_BUDGETS:
        kind = type(getattr(Settings, name))
        setattr(settings, name, kind(config.get(name.upper(), getattr(Settings, name))))
    if settings.lock_lease_seconds < 2 * settings.lock_heartbeat_seconds:
        raise ValueError(
            "LOCK_LEASE_SECONDS must be at least twice LOCK_HEARTBEAT_SECONDS, "
            "or one late heartbeat loses the lock of a page that is still open."
        )
    if settings.lock_edit_idle_seconds < 2 * settings.lock_heartbeat_seconds:
        raise ValueError(
            "LOCK_EDIT_IDLE_SECONDS must be at least twice LOCK_HEARTBEAT_SECONDS, "
            "or a late heartbeat loses the edit lock of someone still typing."
        )
