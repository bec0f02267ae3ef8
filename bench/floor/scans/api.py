"""Two endpoints written the way a Django + django-ninja tutorial would: one scan, a batch."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from ninja import NinjaAPI, Schema

from bench.floor.scans.models import Event, Parcel, Recipient

api = NinjaAPI(title="floor", docs_url=None)


class ScanIn(Schema):
    tracking_number: str
    phone: str = ""


class IntakeIn(ScanIn):
    point_id: int


class BatchIn(Schema):
    point_id: int
    scans: list[ScanIn]


@api.post("/intake")
def intake(request, body: IntakeIn):  # type: ignore[no-untyped-def]
    now = timezone.now()
    with transaction.atomic():
        recipient = Recipient.objects.filter(phone=body.phone).first()
        parcel = Parcel.objects.create(
            tracking_number=body.tracking_number,
            point_id=body.point_id,
            recipient=recipient,
            intake_at=now,
        )
        Event.objects.create(parcel=parcel, kind="intake", point_id=body.point_id, at=now)
    return {"id": parcel.pk, "recipient": recipient.name if recipient else None}


@api.post("/intake/batch")
def intake_batch(request, body: BatchIn):  # type: ignore[no-untyped-def]
    now = timezone.now()
    with transaction.atomic():
        by_phone = {
            r.phone: r for r in Recipient.objects.filter(phone__in={s.phone for s in body.scans})
        }
        parcels = Parcel.objects.bulk_create(
            Parcel(
                tracking_number=s.tracking_number,
                point_id=body.point_id,
                recipient=by_phone.get(s.phone),
                intake_at=now,
            )
            for s in body.scans
        )
        Event.objects.bulk_create(
            Event(parcel=p, kind="intake", point_id=body.point_id, at=now) for p in parcels
        )
    return {"taken_in": len(parcels)}
