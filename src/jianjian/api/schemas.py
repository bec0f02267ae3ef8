"""The API's request and response shapes, and the functions that fill them."""

import datetime as dt

from ninja import Field, Schema
from pydantic import BaseModel, field_validator

from jianjian.access import Principal
from jianjian.communities.phones import mask_name, mask_phone
from jianjian.couriers.models import Courier, Manifest
from jianjian.parcels.lifecycle.scan import Scan
from jianjian.parcels.models import Parcel

TRACKING = Field(..., min_length=1, max_length=60)


class In(BaseModel):
    """What callers send. Text with a NUL character is refused with the other field errors: no
    real input has one, and PostgreSQL cannot store it (it was a server error).

    A plain pydantic model, not a ninja ``Schema``: a request body is JSON, never a model
    instance, so it needs none of ``Schema``'s attribute resolving — which wraps every object in
    a Python getter and costs a batch of 500 scans thousands of calls."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


class ParcelOut(BaseModel):  # built from dicts (parcel_out): no ``Schema`` resolving
    id: int
    tracking_number: str
    carrier: str
    community: str
    state: str
    size: str
    point_id: int | None
    point: str | None
    pickup_code: str | None  # the point's staff and who may collect it only
    planned_point_id: int | None
    recipient: str  # masked
    phone: str  # masked
    flat: str | None
    announced_at: dt.datetime | None
    intake_at: dt.datetime | None
    closed_at: dt.datetime | None


# What every parcel query must select so a page of parcels is a fixed number of queries.
PARCEL_RELATED = ("carrier", "community", "point", "recipient_flat")


def parcel_out(parcel: Parcel, who: Principal) -> dict:  # type: ignore[type-arg]
    sees_code = who.sees_code(parcel)
    return {
        "id": parcel.pk,
        "tracking_number": parcel.tracking_number,
        "carrier": parcel.carrier.code,
        "community": parcel.community.slug,
        "state": parcel.state,
        "size": parcel.size,
        "point_id": parcel.point_id,
        "point": parcel.point.code if parcel.point_id and parcel.point else None,
        "pickup_code": (parcel.pickup_code or None) if sees_code else None,
        "planned_point_id": parcel.planned_point_id,
        "recipient": mask_name(parcel.recipient_name),
        "phone": mask_phone(parcel.recipient_phone),
        "flat": parcel.recipient_flat.code if parcel.recipient_flat else None,
        "announced_at": parcel.announced_at,
        "intake_at": parcel.intake_at,
        "closed_at": parcel.closed_at,
    }


class ScanIn(In):
    """One scan, as the batch lists them; the single intake adds the point and courier."""

    tracking_number: str = TRACKING
    phone: str = Field("", max_length=30)
    phone_last4: str = Field("", max_length=4)
    flat: str = Field("", max_length=30)
    name: str = Field("", max_length=50)
    size: str = Field("", pattern="^(S|M|L)?$")
    override_reason: str = Field("", max_length=500)
    # A carrier code, for a number that fits several carriers (see the code carrier_ambiguous).
    carrier: str = Field("", max_length=20)

    def scan(self) -> Scan:
        return Scan(
            tracking_number=self.tracking_number,
            phone=self.phone,
            phone_last4=self.phone_last4,
            flat=self.flat,
            name=self.name,
            size=self.size,
            override_reason=self.override_reason,
            carrier=self.carrier,
        )


class IntakeIn(ScanIn):
    point_id: int
    courier_id: int | None = None


class IntakeOut(BaseModel):
    parcel: ParcelOut
    created: bool
    duplicate: bool
    found: bool
    warnings: list[str]
    remaining_capacity: int


class BatchIntakeIn(In):
    point_id: int
    courier_id: int | None = None
    scans: list[ScanIn] = Field(..., min_length=1, max_length=500)


class ScanResult(BaseModel):  # built from dicts: no ``Schema`` resolving (see In)
    tracking_number: str
    ok: bool
    parcel_id: int | None = None
    pickup_code: str | None = None
    created: bool = False
    duplicate: bool = False
    warnings: list[str] = []
    code: str | None = None
    message: str | None = None
    candidates: list[str] | None = None


class BatchIntakeOut(BaseModel):
    taken_in: int
    failed: int
    remaining_capacity: int
    results: list[ScanResult]


class HandOverIn(In):
    method: str = Field("code", pattern="^(code|qr|phone_tail|scan)$")


class CancelIn(In):
    reason: str = Field("", max_length=200)


class ElsewhereIn(In):
    place: str = Field(..., pattern="^(door|neighbour)$")
    holder: str = Field("", max_length=50)  # the neighbour who took it


class ReturnIn(In):
    courier_id: int
    reason: str = Field("", max_length=200)


class ManifestRowIn(In):
    tracking_number: str = Field(..., max_length=60)
    phone: str = Field("", max_length=30)
    flat: str = Field("", max_length=30)
    name: str = Field("", max_length=50)
    size: str = Field("", max_length=1)
    carrier: str = Field("", max_length=20)


class ManifestIn(In):
    community: str = Field(..., max_length=50)
    parcels: list[ManifestRowIn] = Field(..., min_length=1, max_length=20000)
    import_good_rows: bool = False


class RowErrorOut(Schema):
    line: int
    field: str
    code: str
    message: str


class ManifestOut(Schema):
    id: int
    community: str
    source: str
    rows: int
    imported: int
    already_known: int
    rejected: int
    replayed: bool = False
    planned: int | None = None
    overflow: int | None = None
    errors: list[RowErrorOut]
    created_at: dt.datetime


def manifest_out(m: Manifest, **extra: object) -> dict:  # type: ignore[type-arg]
    return {
        "id": m.pk,
        "community": m.community.slug,
        "source": m.source,
        "rows": m.rows,
        "imported": m.imported,
        "already_known": m.already_known,
        "rejected": m.rejected,
        "errors": m.errors,
        "created_at": m.created_at,
        **extra,
    }


class PointOut(Schema):
    id: int
    community: str
    code: str
    name: str
    kind: str
    opening_hours: str
    daily_capacity: int
    taken_in_today: int
    remaining_today: int
    planned_today: int
    on_hand: int


class PlannedParcel(Schema):
    id: int
    tracking_number: str
    flat: str | None


class PlanPoint(Schema):
    point_id: int
    code: str
    name: str
    opening_hours: str
    count: int
    parcels: list[PlannedParcel]


class OverflowParcel(Schema):
    id: int
    tracking_number: str
    reasons: list[str]


class DropPlanOut(Schema):
    community: str
    date: dt.date
    points: list[PlanPoint]
    overflow: list[OverflowParcel]


class CourierOut(Schema):
    id: int
    name: str
    carrier: str
    phone: str
    communities: list[str]


def courier_out(c: Courier) -> dict:  # type: ignore[type-arg]
    return {
        "id": c.pk,
        "name": c.name,
        "carrier": c.carrier.code,
        "phone": mask_phone(c.phone),
        "communities": [x.slug for x in c.communities.all()],
    }
