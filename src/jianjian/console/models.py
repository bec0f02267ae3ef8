"""The console's audit log: every change an admin makes in the console, who, when and what."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One change made in the console. Append-only: nothing in the product updates or deletes it."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="audit_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name at the time, so the entry still reads right once the account is renamed or gone.
    username = models.CharField(_("who"), max_length=150)
    at = models.DateTimeField(_("when"), db_index=True)
    action = models.CharField(_("action"), max_length=40)
    object_type = models.CharField(_("what"), max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    summary = models.CharField(_("summary"), max_length=300)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["community", "-at"], name="audit_community_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}: {self.summary}"
