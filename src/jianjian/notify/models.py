"""The notification outbox, and who is told how.

- :class:`Notification` — one row per message, written in the same transaction as its cause.
- :class:`ResidentPreference` — a resident's channels (``sms``, ``email``, ``log``), email
  address and language. No row means "the default channel (``JIANJIAN_NOTIFY_CHANNEL``), in
  zh-Hans". The resident's preferences page (issue 6) edits this model: create or update the
  row with ``channels`` a non-empty list of :data:`RESIDENT_CHANNELS` values and ``email`` set
  when ``email`` is chosen (``full_clean()`` checks both); :meth:`ResidentPreference.channel_list`
  is what the outbox reads. A resident's own quiet hours, when the resident row carries them
  (``Resident.quiet_start``/``quiet_end``), replace the community's.
- :class:`GroupRobot` — a community's group-chat robot (WeCom, DingTalk, Feishu): webhook URL,
  signing secret, and purpose (``committee``: the owners' committee group that gets the daily
  digest of flats with overdue parcels; ``couriers``: the coordination group with the couriers
  that hears about dead parcels entering the return queue).
- :class:`RobotSend` — the ledger the worker counts to keep each robot under its rate limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community, Resident


class Channel(models.TextChoices):
    LOG = "log", _("log file")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("email")
    WECOM = "wecom", _("WeCom group")
    DINGTALK = "dingtalk", _("DingTalk group")
    FEISHU = "feishu", _("Feishu group")


# What a resident may choose; robots are a community's, not a resident's.
RESIDENT_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.LOG)
# Held back during quiet hours (a phone buzzing at night); email and the log file are not.
QUIET_CHANNELS = frozenset({Channel.SMS, Channel.WECOM, Channel.DINGTALK, Channel.FEISHU})


class Status(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed for good")


class RobotKind(models.TextChoices):
    WECOM = "wecom", _("WeCom (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk (钉钉)")
    FEISHU = "feishu", _("Feishu (飞书)")


class RobotPurpose(models.TextChoices):
    COMMITTEE = "committee", _("owners' committee: daily digest of overdue parcels")
    COURIERS = "couriers", _("couriers' group: dead parcels to take back")


class GroupRobot(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="robots")
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=RobotKind.choices)
    webhook_url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk (SEC…) and Feishu robots with signing turned on."),
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=RobotPurpose.choices)
    active = models.BooleanField(_("active"), default=True)
    # When this committee robot's next daily digest is due (set on save, advanced by the sweep).
    next_digest_at = models.DateTimeField(_("next digest"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        indexes = [
            models.Index(
                fields=["next_digest_at"],
                condition=Q(active=True, purpose="committee"),
                name="robot_digest_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        if self.kind == RobotKind.DINGTALK and self.secret and not self.secret.startswith("SEC"):
            raise ValidationError({"secret": gettext("A DingTalk signing secret starts with SEC.")})

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if self.purpose == RobotPurpose.COMMITTEE and self.next_digest_at is None:
            from jianjian import clock
            from jianjian.notify.schedule import next_digest_at

            self.next_digest_at = next_digest_at(self.community, clock.now())
        super().save(*args, **kwargs)


class BoardPost(models.Model):
    """One couriers' board message of one community and local day: the morning room board, or
    one point filling up. Its unique row is the claim, written in the transaction that queues
    the message, so two workers sweeping at once post it once."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=40)  # "board" or "full:<point id>"
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "day", "kind"], name="boardpost_once")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day} {self.kind}"


class RobotSend(models.Model):
    """One message posted by one robot: the worker counts these to respect its rate limit."""

    robot = models.ForeignKey(GroupRobot, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["robot", "at"], name="robotsend_robot_at")]

    def __str__(self) -> str:
        return f"{self.robot_id} @ {self.at:%H:%M:%S}"


def default_channels() -> list[str]:
    return [settings.NOTIFY_DEFAULT_CHANNEL]


class ResidentPreference(models.Model):
    resident = models.OneToOneField(
        Resident, on_delete=models.CASCADE, related_name="notify_preference"
    )
    channels = models.JSONField(
        _("channels"), default=default_channels, help_text=_("Any of: sms, email, log.")
    )
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.resident}: {', '.join(self.channel_list())}"

    def clean(self) -> None:
        chosen = self.channels
        allowed = {str(c) for c in RESIDENT_CHANNELS}
        if not isinstance(chosen, list) or not chosen or not set(chosen) <= allowed:
            raise ValidationError({"channels": gettext("Choose one or more of: sms, email, log.")})
        if Channel.EMAIL in chosen and not self.email:
            raise ValidationError({"email": gettext("Enter the email address to write to.")})

    def channel_list(self) -> list[str]:
        allowed = {str(c) for c in RESIDENT_CHANNELS}
        chosen = [c for c in (self.channels or []) if c in allowed]
        return chosen or default_channels()


class Notification(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(
        "parcels.Parcel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    robot = models.ForeignKey(
        GroupRobot,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("robot"),
    )
    # Same cause → same key: a retried or repeated cause never queues a second message.
    # Unique by a constraint rather than unique=True, which on PostgreSQL adds a second index
    # for LIKE searches nobody makes, written with every message queued.
    dedup_key = models.CharField(max_length=200)
    cause = models.CharField(_("cause"), max_length=30)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("to"), max_length=200)
    language = models.CharField(max_length=10, default="zh-hans")
    body = models.TextField(_("message"))
    # SMS providers send a registered template with parameters, never free text.
    params = models.JSONField(_("template parameters"), default=dict, blank=True)
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
        constraints = [
            # A message is queued once per key, however often its cause is seen.
            models.UniqueConstraint(fields=["dedup_key"], name="notification_unique_key")
        ]
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
