"""What a scan is, from the door to the ledger, and what intake answers.

The API's intake schemas, the counter's scan form and the CLI each build a :class:`Scan`; the
intake verbs take it as it is (single and batch alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jianjian.parcels.matching import Typed
from jianjian.parcels.models import Parcel


@dataclass(frozen=True)
class Scan:
    """One scan at a point: the number read, and what the clerk typed or picked with it."""

    tracking_number: str
    phone: str = ""
    phone_last4: str = ""
    flat: str = ""
    name: str = ""
    size: str = ""
    override_reason: str = ""
    # A carrier code the clerk picked, for a number that fits several carriers.
    carrier: str = ""

    @property
    def typed(self) -> Typed:
        """What the clerk typed about the recipient."""
        return Typed(self.phone, self.phone_last4, self.flat, self.name)


@dataclass
class IntakeResult:
    parcel: Parcel
    created: bool = False
    duplicate: bool = False
    found: bool = False
    warnings: list[str] = field(default_factory=list)
    remaining_capacity: int = 0
