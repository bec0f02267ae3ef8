"""Parcels and their append-only custody trail.

A parcel's ``state``, ``point``, ``slot`` and holder are a cache of the fold of its custody
events (see :mod:`jianjian.parcels.fold`). Only :mod:`jianjian.parcels.services` writes either.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community, Flat, Resident
from jianjian.couriers.models import Carrier, Courier
from jianjian.points.models import CollectionPoint, Slot, SlotSize


class ParcelState(models.TextChoices):
    ANNOUNCED = "announced", _("announced")
    AT_POINT = "at_point", _("at the point")
    PICKED_UP = "picked_up", _("picked up")
    RETURNED = "returned", _("returned to courier")
    MISSING = "missing", _("missing")
    # Pre-advice that ended without the parcel reaching a point.
    CANCELLED = "cancelled", _("pre-advice cancelled")
    ELSEWHERE = "elsewhere", _("delivered elsewhere")
    # Pre-advice that ran out: the parcel never arrived within the community's policy days, or
    # the drop plan found it no room for too many days (overflow released).
    EXPIRED = "expired", _("pre-advice expired")


# States in which the parcel holds its pickup code (a missing parcel keeps it: it may be found).
CODE_HOLDING_STATES = (ParcelState.AT_POINT, ParcelState.MISSING)


class Parcel(models.Model):
    # No index of its own: parcel_unique_tracking and parcel_community_state lead with it.
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="parcels", db_index=False
    )
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, verbose_name=_("carrier"))
    state = models.CharField(_("state"), max_length=12, choices=ParcelState.choices)
    size = models.CharField(_("size"), max_length=1, choices=SlotSize.choices, default=SlotSize.M)

    # Place: the point and slot while at a point (or last seen there, when missing) …
    point = models.ForeignKey(
        CollectionPoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("point"),
        db_index=False,  # parcel_point_state leads with it
    )
    slot = models.ForeignKey(
        Slot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("slot"),
    )
    pickup_code = models.CharField(_("pickup code"), max_length=16, blank=True)
    # … or the holder once it has left: who collected it, or the courier it went back to.
    collected_by = models.CharField(_("collected by"), max_length=100, blank=True)
    returned_to = models.ForeignKey(
        Courier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name=_("returned to"),
    )
    # Where pre-advice or allocation planned the parcel to go.
    planned_point = models.ForeignKey(
        CollectionPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("planned point"),
    )
    delivering_courier = models.ForeignKey(
        Courier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("courier"),
    )

    # Recipient: a matched resident, or what the label says until matched.
    recipient = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("recipient"),
    )
    recipient_name = models.CharField(_("recipient name"), max_length=50, blank=True)
    recipient_phone = models.CharField(_("recipient phone"), max_length=20, blank=True)
    recipient_last4 = models.CharField(max_length=4, blank=True)
    recipient_flat = models.ForeignKey(
        Flat,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("flat"),
    )

    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)
    intake_at = models.DateTimeField(_("taken in"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # When the next reminder (or, last, the dead notice) is due; None once nothing more is due.
    # Set by the lifecycle services, advanced by the notification sweep (jianjian.notify.sweeps).
    next_reminder_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Number of custody events: the next event's sequence is this plus one.
    event_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        constraints = [
            # Idempotency is backed by the database: one parcel per number per community.
            models.UniqueConstraint(
                fields=["community", "tracking_number"], name="parcel_unique_tracking"
            ),
            # A pickup code is never held by two parcels of one point at once.
            models.UniqueConstraint(
                fields=["point", "pickup_code"],
                condition=Q(state__in=["at_point", "missing"]),
                name="parcel_unique_live_code",
            ),
        ]
        indexes = [
            # Pickup by phone tail: the parcels at one point whose recipient ends in 5678.
            models.Index(
                fields=["point", "recipient_last4"],
                condition=Q(state="at_point"),
                name="parcel_onhand_last4",
            ),
            models.Index(
                fields=["point", "recipient"],
                condition=Q(state="at_point"),
                name="parcel_onhand_recipient",
            ),
            models.Index(fields=["point", "state", "intake_at"], name="parcel_point_state"),
            models.Index(fields=["community", "state"], name="parcel_community_state"),
            # A phone without a roster row finds the parcels addressed to it (sign-in, my parcels).
            models.Index(
                fields=["recipient_phone"],
                condition=Q(recipient__isnull=True),
                name="parcel_unrostered_phone",
            ),
            # The reminder sweep reads only what is due; parcels with nothing due are not indexed.
            models.Index(
                fields=["next_reminder_at"],
                condition=Q(next_reminder_at__isnull=False),
                name="parcel_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number


class EventKind(models.TextChoices):
    ANNOUNCE = "announce", _("announced")
    INTAKE = "intake", _("taken in")
    HAND_OVER = "hand_over", _("handed over")
    MOVE = "move", _("moved")
    RETURN = "return", _("returned to courier")
    MISSING = "missing", _("marked missing")
    FOUND = "found", _("found")
    RECIPIENT = "recipient", _("recipient matched")
    CANCEL = "cancel", _("pre-advice cancelled")
    ELSEWHERE = "elsewhere", _("delivered elsewhere")
    EXPIRE = "expire", _("pre-advice expired")


class Method(models.TextChoices):
    SCAN = "scan", _("scan")
    TYPED = "typed", _("typed")
    CODE = "code", _("pickup code")
    QR = "qr", _("QR code")
    PHONE_TAIL = "phone_tail", _("phone last 4 digits")
    API = "api", _("API")
    MANIFEST = "manifest", _("manifest")
    STOCKTAKE = "stocktake", _("stocktake")
    CLI = "cli", _("command line")
    ADMIN = "admin", _("admin")
    SYSTEM = "system", _("system")


class AppendOnlyQuerySet(models.QuerySet["CustodyEvent"]):
    """Custody events are never changed or removed, not even in bulk."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("custody events are append-only")

    def delete(self):  # type: ignore[no-untyped-def]
        raise PermissionError("custody events are append-only")


class CustodyEvent(models.Model):
    # The three columns most asked by lead the composite indexes below (event_community_at,
    # event_unique_seq, event_point_at), which serve those questions: no index of their own,
    # three fewer for every event written.
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField(_("sequence"))
    kind = models.CharField(_("what"), max_length=12, choices=EventKind.choices)
    to_state = models.CharField(_("state after"), max_length=12, choices=ParcelState.choices)
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who"), max_length=100, blank=True)
    method = models.CharField(_("how"), max_length=12, choices=Method.choices)
    point = models.ForeignKey(
        CollectionPoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("where"),
        db_index=False,
    )
    slot = models.ForeignKey(
        Slot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("slot"),
    )
    pickup_code = models.CharField(_("pickup code"), max_length=16, blank=True)
    courier = models.ForeignKey(
        Courier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("courier"),
    )
    holder = models.CharField(_("holder"), max_length=100, blank=True)
    # Reasons, overrides, proxies, warnings: what the record must keep beyond the place.
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        ordering = ["parcel_id", "seq"]
        constraints = [
            # Two racing writers cannot both append event n to one parcel.
            models.UniqueConstraint(fields=["parcel", "seq"], name="event_unique_seq")
        ]
        indexes = [
            models.Index(fields=["community", "at"], name="event_community_at"),
            models.Index(fields=["point", "at"], name="event_point_at"),
        ]

    def __str__(self) -> str:
        return f"{self.parcel_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise PermissionError("custody events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("custody events are append-only")
