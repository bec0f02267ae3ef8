"""The roles of the product, named once (DESIGN.md §2).

Every permission rule in :mod:`jianjian.access` and every model choice of a role use these
names, so a role is spelled the same in the database, the API and the code.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SUPERUSER = "superuser"
    ADMIN = "admin"  # community admin (居委会)
    COMMITTEE = "committee"  # owners' committee member (业委会): figures and masked lists
    CLERK = "clerk"  # works the counter of their point(s)
    COURIER = "courier"
    INTEGRATION = "integration"  # a carrier's system, by token only
    RESIDENT = "resident"
    PROXY = "proxy"  # a phone a resident authorised to collect for them
    ANONYMOUS = "anonymous"


# Roles that never see a pickup code, whatever parcel they look at: a code at the counter is
# enough to collect, so only the people who hand parcels out and their recipients see it.
NO_PICKUP_CODES = frozenset({Role.COURIER, Role.INTEGRATION, Role.COMMITTEE, Role.ANONYMOUS})
