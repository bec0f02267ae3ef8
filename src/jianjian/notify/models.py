"""The notification outbox: one row per message, written in the same transaction as its cause."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community


class Channel(models.TextChoices):
    LOG = "log", _("log file")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("email")


class Status(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed for good")


class Notification(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(
        "parcels.Parcel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # Same cause → same key: a retried or repeated cause never queues a second message.
    dedup_key = models.CharField(max_length=200, unique=True)
    cause = models.CharField(_("cause"), max_length=30)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("to"), max_length=200)
    language = models.CharField(max_length=10, default="zh-hans")
    body = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_answer = models.TextField(_("provider answer"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The worker's one query: what is due now. Sent and failed rows are not indexed.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notification_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cause} → {self.address} ({self.status})"
