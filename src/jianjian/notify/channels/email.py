"""Email through Django's configured email backend (SMTP in production)."""

from __future__ import annotations

import smtplib

from django.core.mail import send_mail

from jianjian.notify.channels import PermanentFailure, TemporaryFailure
from jianjian.notify.models import Notification


class EmailChannel:
    def send(self, notification: Notification) -> str:
        subject = notification.body.split("]", 1)[0].lstrip("[") or "jianjian"
        try:
            send_mail(subject, notification.body, None, [notification.address])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(str(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(str(exc)) from exc
        return "accepted"
