"""Collection points (代收点) — shop counters, gate shelves, locker banks — and their slots."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community


class PointKind(models.TextChoices):
    COUNTER = "counter", _("shop counter")
    SHELF = "shelf", _("gate shelf")
    LOCKER = "locker", _("locker bank")


class SlotSize(models.TextChoices):
    S = "S", _("small")
    M = "M", _("medium")
    L = "L", _("large")


SIZE_ORDER = {"S": 0, "M": 1, "L": 2}


class CollectionPoint(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="points")
    code = models.CharField(
        _("code"),
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{1,2}$", _("One or two capital letters, e.g. A."))],
        help_text=_("Starts every pickup code at this point, e.g. A in A2-3-017."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=PointKind.choices)
    host_shop = models.CharField(_("host shop"), max_length=100, blank=True)
    daily_capacity = models.PositiveIntegerField(_("daily capacity"), default=50)
    opens_at = models.TimeField(_("opens at"), default=dt.time(8, 0))
    closes_at = models.TimeField(_("closes at"), default=dt.time(21, 0))
    building = models.ForeignKey(
        "communities.Building",
        verbose_name=_("nearest building"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)
    # Maintained by the lifecycle services in the same transaction as each custody event;
    # `jianjian check` recomputes it from the events.
    on_hand = models.IntegerField(_("on hand"), default=0, editable=False)
    # Rolling sequence for pickup codes (see parcels.codes).
    code_seq = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("collection point")
        verbose_name_plural = _("collection points")
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="point_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def clean(self) -> None:
        if self.opens_at == self.closes_at:
            raise ValidationError(gettext("Opening and closing times must differ."))

    @property
    def opening_hours(self) -> str:
        return f"{self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Slot(models.Model):
    """A shelf tier (any number of parcels) or a locker compartment (one parcel, with a size)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    point = models.ForeignKey(CollectionPoint, on_delete=models.CASCADE, related_name="slots")
    shelf = models.PositiveSmallIntegerField(_("shelf / column"))
    tier = models.PositiveSmallIntegerField(_("tier / row"))
    is_compartment = models.BooleanField(_("locker compartment"), default=False)
    size = models.CharField(_("size"), max_length=1, choices=SlotSize.choices, default=SlotSize.L)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["shelf", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["point", "shelf", "tier"], name="slot_unique_place")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.shelf}-{self.tier}"


class PointDay(models.Model):
    """One point's intake count for one local day: the capacity check reads one row."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    point = models.ForeignKey(CollectionPoint, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    intakes = models.PositiveIntegerField(default=0)
    overrides = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["point", "date"], name="pointday_unique")]

    def __str__(self) -> str:
        return f"{self.point_id} {self.date}: {self.intakes}"
