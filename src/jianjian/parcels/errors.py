"""Domain errors raised by the lifecycle services.

Each carries a stable ``code`` (for the API and tests) and a ``message`` written for the clerk,
already translated into the active language.
"""

from __future__ import annotations

from typing import Any


class ParcelError(Exception):
    code = "parcel_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(ParcelError):
    code = "invalid_input"


class NotFound(ParcelError):
    code = "not_found"


class InvalidTransition(ParcelError):
    code = "invalid_transition"


class CapacityExceeded(ParcelError):
    code = "capacity_exceeded"


class RecipientNeeded(ParcelError):
    """Intake cannot tell whose parcel this is: ask for the phone's last 4 digits and the flat."""

    code = "recipient_needed"


class AmbiguousRecipient(ParcelError):
    code = "recipient_ambiguous"


class NoRoom(ParcelError):
    code = "no_room"


class CarrierAmbiguous(ParcelError):
    """The number fits several carriers and nothing says which: ask the clerk to pick one
    (``details["candidates"]``: the carrier codes it fits)."""

    code = "carrier_ambiguous"
