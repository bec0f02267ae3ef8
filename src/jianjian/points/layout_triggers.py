"""Triggers that raise a point's ``layout_version`` whenever one of its slots is added, changed or
removed, so a process's copy of the point's slots (:mod:`jianjian.parcels.placement`) never
outlives them (see :mod:`jianjian.triggers`).

The version lives on the point's row, which a scan locks and reads anyway: a slot change waits
for the scans holding the lock, and the next scan sees the new version.
"""

from __future__ import annotations

from typing import Any

from jianjian import triggers
from jianjian.triggers import Trigger

_BUMP = "UPDATE points_collectionpoint SET layout_version = layout_version + 1 WHERE id"

TRIGGERS = [
    Trigger("points_slot_layout_insert", "points_slot", "INSERT", f"{_BUMP} = NEW.point_id"),
    Trigger(
        "points_slot_layout_update",
        "points_slot",
        "UPDATE",
        f"{_BUMP} IN (OLD.point_id, NEW.point_id)",
    ),
    Trigger("points_slot_layout_delete", "points_slot", "DELETE", f"{_BUMP} = OLD.point_id"),
]


def create(apps: Any, schema_editor: Any) -> None:
    triggers.create(TRIGGERS, schema_editor)


def drop(apps: Any, schema_editor: Any) -> None:
    triggers.drop(TRIGGERS, schema_editor)
