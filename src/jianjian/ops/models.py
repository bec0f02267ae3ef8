"""What operations needs to remember: when each background process last showed it was alive."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """One row per background process name (``worker``); ``/readyz`` reads its age."""

    name = models.CharField(_("process"), max_length=40, unique=True)
    beat_at = models.DateTimeField(_("last seen"))
    pid = models.PositiveIntegerField(default=0)
    host = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
