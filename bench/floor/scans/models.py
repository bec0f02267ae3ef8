"""The least a parcel room stores for a scan: who it is for, the parcel and one event."""

from __future__ import annotations

from django.db import models


class Recipient(models.Model):
    phone = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=50)
    flat = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.phone


class Parcel(models.Model):
    tracking_number = models.CharField(max_length=60, unique=True)
    point_id = models.IntegerField()
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, null=True)
    state = models.CharField(max_length=12, default="at_point")
    intake_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.tracking_number


class Event(models.Model):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE)
    kind = models.CharField(max_length=12)
    point_id = models.IntegerField()
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} {self.at}"
