"""Stocktakes (盘点) at a point, their scans and resolutions, and missing-parcel cases."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community
from jianjian.parcels.models import Parcel
from jianjian.points.models import CollectionPoint


class StocktakeStatus(models.TextChoices):
    OPEN = "open", _("in progress")
    PAUSED = "paused", _("paused")
    FINISHED = "finished", _("finished")


class Stocktake(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    point = models.ForeignKey(CollectionPoint, on_delete=models.PROTECT, related_name="stocktakes")
    status = models.CharField(
        _("status"), max_length=10, choices=StocktakeStatus.choices, default=StocktakeStatus.OPEN
    )
    started_at = models.DateTimeField(_("started"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    started_by_label = models.CharField(_("started by"), max_length=100)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    finished_by_label = models.CharField(_("finished by"), max_length=100, blank=True)
    # The kept report: the figures and lists as they stood when the stocktake was finished.
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ["-started_at"]
        constraints = [
            # One stocktake at a time per point: two clerks resume the same one.
            models.UniqueConstraint(
                fields=["point"],
                condition=Q(status__in=["open", "paused"]),
                name="stocktake_one_live_per_point",
            )
        ]
        indexes = [models.Index(fields=["point", "finished_at"], name="stocktake_point_finished")]

    def __str__(self) -> str:
        return f"{self.point.code} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.status != StocktakeStatus.FINISHED


class StocktakeScan(models.Model):
    """One number scanned during a stocktake. Scanning it again changes nothing."""

    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="scans")
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scanned_at = models.DateTimeField(_("scanned"))
    scanned_by_label = models.CharField(_("scanned by"), max_length=100)

    class Meta:
        ordering = ["scanned_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["stocktake", "tracking_number"], name="stocktake_scan_once"
            )
        ]

    def __str__(self) -> str:
        return self.tracking_number


class ResolutionAction(models.TextChoices):
    MARK_MISSING = "mark_missing", _("marked missing")
    MOVE_HERE = "move_here", _("moved here")
    TAKE_IN = "take_in", _("taken in")
    FOUND = "found", _("found here")
    HAND_TO_ADMIN = "to_admin", _("handed to the admin")


class StocktakeResolution(models.Model):
    """How one discrepancy was settled. Changes of custody went through the lifecycle services;
    a parcel handed to the admin is recorded here only (the admin decides what happens next)."""

    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="resolutions")
    tracking_number = models.CharField(_("tracking number"), max_length=40)
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The discrepancy as it stood when settled (the parcel's state has changed since).
    discrepancy = models.CharField(_("discrepancy"), max_length=20)
    action = models.CharField(_("resolution"), max_length=15, choices=ResolutionAction.choices)
    at = models.DateTimeField(_("when"))
    by_label = models.CharField(_("who"), max_length=100)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["stocktake", "tracking_number"], name="stocktake_resolved_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number}: {self.action}"


class MissingCase(models.Model):
    """Opened when a parcel is marked missing, closed on record when it is found.

    Keeps who had the parcel last, where and when (the custody event before it went missing); the
    full trail is the parcel's custody events.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="missing_cases")
    point = models.ForeignKey(
        CollectionPoint,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("last seen at"),
    )
    opened_at = models.DateTimeField(_("opened"))
    opened_by_label = models.CharField(_("opened by"), max_length=100)
    note = models.CharField(_("note"), max_length=500, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_seen_by = models.CharField(_("last handled by"), max_length=100, blank=True)
    last_seen_kind = models.CharField(_("last event"), max_length=12, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by_label = models.CharField(_("closed by"), max_length=100, blank=True)
    found_at_point = models.ForeignKey(
        CollectionPoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("found at"),
    )

    class Meta:
        verbose_name = _("missing-parcel case")
        verbose_name_plural = _("missing-parcel cases")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel"], condition=Q(closed_at__isnull=True), name="missing_case_one_open"
            )
        ]
        indexes = [models.Index(fields=["community", "closed_at"], name="missing_case_open")]

    def __str__(self) -> str:
        return f"{self.parcel} ({'closed' if self.closed_at else 'open'})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
