"""Row triggers that keep a version number current whenever some table changes, by any path
(the console, the Django admin, a bulk ``update()``, a shell): a process may then keep what it
read of those tables in memory for as long as the version it reads with each scan stays the
same. One SQL statement per trigger, written once for PostgreSQL (a function per trigger) and
SQLite (the statement inline); ``NEW``/``OLD`` mean the same in both.

SQLite drops a table's triggers when a migration rebuilds the table: the tests check after every
migration that each trigger is in place (:func:`installed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    event: str  # INSERT, UPDATE, DELETE or UPDATE OF <columns>
    body: str  # one statement, run for each row changed

    def sql(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            return [
                f"CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {self.body}; RETURN NULL; END $$",
                f"CREATE TRIGGER {self.name} AFTER {self.event} ON {self.table} "
                f"FOR EACH ROW EXECUTE FUNCTION {self.name}()",
            ]
        return [
            f"CREATE TRIGGER {self.name} AFTER {self.event} ON {self.table} BEGIN {self.body}; END"
        ]

    def drop_sql(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            return [
                f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}",
                f"DROP FUNCTION IF EXISTS {self.name}()",
            ]
        return [f"DROP TRIGGER IF EXISTS {self.name}"]


def create(triggers: list[Trigger], schema_editor: Any) -> None:
    for trigger in triggers:
        for statement in trigger.sql(schema_editor.connection.vendor):
            schema_editor.execute(statement)


def drop(triggers: list[Trigger], schema_editor: Any) -> None:
    for trigger in triggers:
        for statement in trigger.drop_sql(schema_editor.connection.vendor):
            schema_editor.execute(statement)


def installed(connection: Any, triggers: list[Trigger]) -> set[str]:
    """Which of ``triggers`` the database has."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {name for (name,) in cursor.fetchall()} & {t.name for t in triggers}
