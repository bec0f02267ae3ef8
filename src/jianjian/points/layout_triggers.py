"""Database triggers that raise a point's ``layout_version`` whenever one of its slots is added,
changed or removed — through the console, the Django admin, a bulk update or a shell alike — so
a cache of the point's slots (:mod:`jianjian.parcels.placement`) can never outlive them.

A trigger, not application code, because slots are written in bulk (``update()``,
``bulk_create``) and by hand, and a missed bump would file parcels on a retired shelf. The
version lives on the point's row, which a scan locks and reads anyway: a slot change waits for
the scans holding the lock and the next scan sees the new version.

SQLite drops a table's triggers when a migration rebuilds the table: ``tests`` checks they exist
after every migration.
"""

from __future__ import annotations

from typing import Any

SLOTS, POINTS = "points_slot", "points_collectionpoint"
NAMES = ("points_slot_layout_insert", "points_slot_layout_update", "points_slot_layout_delete")
_BUMP = f"UPDATE {POINTS} SET layout_version = layout_version + 1 WHERE id"

_POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION points_slot_layout_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {_BUMP} = OLD.point_id;
        END IF;
        IF TG_OP = 'INSERT' OR NEW.point_id <> OLD.point_id THEN
            {_BUMP} = NEW.point_id;
        END IF;
        RETURN NULL;
    END $$
    """,
    *(
        f"CREATE TRIGGER {name} AFTER {event} ON {SLOTS} "
        "FOR EACH ROW EXECUTE FUNCTION points_slot_layout_changed()"
        for name, event in zip(NAMES, ("INSERT", "UPDATE", "DELETE"), strict=True)
    ),
]

_SQLITE = [
    f"CREATE TRIGGER {NAMES[0]} AFTER INSERT ON {SLOTS} BEGIN {_BUMP} = NEW.point_id; END",
    f"CREATE TRIGGER {NAMES[1]} AFTER UPDATE ON {SLOTS} "
    f"BEGIN {_BUMP} IN (OLD.point_id, NEW.point_id); END",
    f"CREATE TRIGGER {NAMES[2]} AFTER DELETE ON {SLOTS} BEGIN {_BUMP} = OLD.point_id; END",
]


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in _POSTGRES if vendor == "postgresql" else _SQLITE:
        schema_editor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    on = f" ON {SLOTS}" if schema_editor.connection.vendor == "postgresql" else ""
    for name in NAMES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS points_slot_layout_changed()")


def installed(connection: Any) -> set[str]:
    """The names of the layout triggers the database has."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [SLOTS],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [SLOTS]
            )
        return {name for (name,) in cursor.fetchall()} & set(NAMES)
