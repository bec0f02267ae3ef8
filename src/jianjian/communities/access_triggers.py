"""Triggers that raise :class:`AccessVersion` whenever who may work at which point can have
changed (see :mod:`jianjian.triggers`): a staff membership added, changed or removed, a
membership's points, a point switched off, moved to another community or removed. A user's own
flags (active, superuser) and the token are read with every request and need none.
"""

from __future__ import annotations

from typing import Any

from jianjian import triggers
from jianjian.triggers import Trigger

_BUMP = "UPDATE communities_accessversion SET version = version + 1 WHERE id = 1"

TRIGGERS = [
    Trigger(f"{table}_access_{event.split()[0].lower()}", table, event, _BUMP)
    for table in ("communities_membership", "communities_membership_points")
    for event in ("INSERT", "UPDATE", "DELETE")
] + [
    Trigger(
        "points_collectionpoint_access_update",
        "points_collectionpoint",
        "UPDATE OF active, community_id",
        _BUMP,
    ),
    Trigger("points_collectionpoint_access_delete", "points_collectionpoint", "DELETE", _BUMP),
]


def create(apps: Any, schema_editor: Any) -> None:
    apps.get_model("communities", "AccessVersion").objects.create(pk=1)
    triggers.create(TRIGGERS, schema_editor)


def drop(apps: Any, schema_editor: Any) -> None:
    triggers.drop(TRIGGERS, schema_editor)
