"""Collection points (代收点) — shop counters, gate shelves, locker banks — and their slots."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from jianjian.communities.models import Community

# Opening hours per weekday, Monday first: each day ["HH:MM", "HH:MM"] or None (closed).
WEEKDAYS = 7
WeekHours = list[list[str] | None]


def uniform_hours(opens: dt.time = dt.time(8, 0), closes: dt.time = dt.time(21, 0)) -> WeekHours:
    """The same hours every day of the week."""
    return [[f"{opens:%H:%M}", f"{closes:%H:%M}"] for _day in range(WEEKDAYS)]


def default_hours() -> WeekHours:
    return uniform_hours()


def parse_day(entry: object) -> tuple[dt.time, dt.time] | None:
    """One day of a stored week: (opens, closes), None when closed; ValueError when malformed."""
    if entry is None:
        return None
    if not isinstance(entry, list | tuple) or len(entry) != 2:
        raise ValueError(f"not a pair of times: {entry!r}")
    key = (str(entry[0]), str(entry[1]))
    parsed = _PARSED_DAYS.get(key)
    if parsed is None:
        opens, closes = (dt.time.fromisoformat(t) for t in key)
        if opens == closes:
            raise ValueError("opening and closing times are the same")
        parsed = (opens, closes)
        if len(_PARSED_DAYS) < 4096:
            _PARSED_DAYS[key] = parsed
    return parsed


# Every deadline, warning and message asks a point's hours many times; a day's two times are
# parsed once per process (a pure function of the two strings).
_PARSED_DAYS: dict[tuple[str, str], tuple[dt.time, dt.time]] = {}


def validate_week(value: object) -> None:
    """A week of hours is exactly seven days, each closed or two distinct times."""
    if not isinstance(value, list) or len(value) != WEEKDAYS:
        raise ValidationError(gettext("Opening hours need one entry for each of the 7 days."))
    for entry in value:
        try:
            parse_day(entry)
        except ValueError:
            raise ValidationError(
                gettext("Each day is closed, or opens and closes at two different times.")
            ) from None


_SUMMARIES: dict[tuple[str | None, str], str] = {}


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
    # Monday first; a day's closing time before its opening time means open past midnight.
    hours = models.JSONField(_("opening hours"), default=default_hours, validators=[validate_week])
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
    # Raised by the database itself whenever one of the point's slots is added, changed or
    # removed, by any path (triggers on the slots' table, points/layout_triggers.py): a process
    # keeps the point's slots in memory while this number stays the same (parcels.placement).
    layout_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("collection point")
        verbose_name_plural = _("collection points")
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="point_unique_code")
        ]

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # A point created with one opening and one closing time (fixtures, older scripts) is
        # open those hours every day.
        opens, closes = kwargs.pop("opens_at", None), kwargs.pop("closes_at", None)
        super().__init__(*args, **kwargs)
        if opens is not None or closes is not None:
            self.hours = uniform_hours(opens or dt.time(8, 0), closes or dt.time(21, 0))

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def opening_hours(self) -> str:
        """The week's hours in one short line, e.g. ``09:00–20:30`` when every day is alike."""
        from jianjian.points.hours import week_summary

        # Every resident message names the hours (a batch of 50 intakes writes 50 messages): the
        # line is made once per process for each week and language, the same text every time.
        key = (get_language(), repr(self.hours))
        text = _SUMMARIES.get(key)
        if text is None:
            text = week_summary(self.hours)
            if len(_SUMMARIES) >= 1024:
                _SUMMARIES.clear()
            _SUMMARIES[key] = text
        return text

    def weekly_hours_on(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """The regular hours of ``day``'s weekday, closures aside."""
        week = self.hours if isinstance(self.hours, list) and len(self.hours) == WEEKDAYS else []
        try:
            return parse_day(week[day.weekday()]) if week else None
        except ValueError:
            return None  # a malformed day never opens a point by accident

    def closed_on(self, day: dt.date) -> bool:
        """Whether a temporary closure covers the local ``day``."""
        spans = getattr(self, "_closure_spans", None)
        if spans is None:
            # Read once per instance: a request asks about the same point many times.
            spans = [c.span() for c in self.closures.all()] if self.pk is not None else []
            self._closure_spans = spans
        return any(first <= day <= last for first, last in spans if first <= last)

    def refresh_from_db(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.__dict__.pop("_closure_spans", None)  # closures may have changed too
        super().refresh_from_db(*args, **kwargs)

    def hours_on(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """The point's opening and closing time on a local ``day``, or None when it is closed
        that day. Every rule that depends on opening hours asks here (deadlines, out-of-hours
        intake, allocation)."""
        if self.closed_on(day):
            return None
        return self.weekly_hours_on(day)

    def is_open_at(self, local: dt.datetime) -> bool:
        """Whether the point is open at a moment given in the community's local time."""
        now = local.time()
        today = self.hours_on(local.date())
        if today is not None:
            opens, closes = today
            if opens <= now and (now < closes or closes < opens):
                return True
        # The small hours belong to the evening before when that day stays open past midnight.
        eve = self.hours_on(local.date() - dt.timedelta(days=1))
        return eve is not None and eve[1] < eve[0] and now < eve[1]


class PointClosure(models.Model):
    """A temporary closure of a point, whole local days ``starts_on``…``ends_on``.

    Ending it early keeps the row (it is a record) and sets ``reopened_on``: the point is open
    again from that day.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    point = models.ForeignKey(CollectionPoint, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField(_("closed from"))
    ends_on = models.DateField(_("closed until"))
    reason = models.CharField(_("reason"), max_length=200)
    reopened_on = models.DateField(_("reopened on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("temporary closure")
        verbose_name_plural = _("temporary closures")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["point", "ends_on"], name="closure_point_ends")]

    def __str__(self) -> str:
        return f"{self.point_id} {self.starts_on}–{self.ends_on}"

    def span(self) -> tuple[dt.date, dt.date]:
        """The days the point is actually closed (an empty span once reopened before it began)."""
        last = self.ends_on
        if self.reopened_on is not None:
            last = min(last, self.reopened_on - dt.timedelta(days=1))
        return self.starts_on, last

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError(
                {"ends_on": gettext("The closure must end on or after the day it starts.")}
            )


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


# --- disinfection (消杀) -----------------------------------------------------------------------


def disinfection_photo_path(instance: DisinfectionLog, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "jpg"
    return f"disinfection/{instance.point_id}/{instance.done_at:%Y-%m}/{instance.task_id}-{instance.done_at:%d%H%M%S}.{suffix}"


class DisinfectionTask(models.Model):
    """Something at a point to disinfect on a schedule, e.g. the locker's touch screen every 4 h.

    The schedule applies between ``starts_at`` and ``ends_at`` (local time of the community): a
    task that would fall due at night is due when the window opens the next morning.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    point = models.ForeignKey(
        CollectionPoint, on_delete=models.CASCADE, related_name="disinfection_tasks"
    )
    name = models.CharField(_("task"), max_length=100, help_text=_("e.g. locker touch screen"))
    interval_hours = models.PositiveSmallIntegerField(
        _("every (hours)"), default=24, validators=[MinValueValidator(1)]
    )
    starts_at = models.TimeField(_("applies from"), default=dt.time(8, 0))
    ends_at = models.TimeField(_("applies until"), default=dt.time(21, 0))
    default_agent = models.CharField(
        _("usual agent"), max_length=100, blank=True, help_text=_("e.g. 75% alcohol")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # When the task is next due, kept by the logging service; the overdue sweep reads this index.
    next_due_at = models.DateTimeField(_("next due"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("disinfection task")
        verbose_name_plural = _("disinfection tasks")
        ordering = ["point", "name"]
        constraints = [
            models.UniqueConstraint(fields=["point", "name"], name="disinfection_task_unique")
        ]

    def __str__(self) -> str:
        return f"{self.point.code} · {self.name}"

    def clean(self) -> None:
        if self.starts_at >= self.ends_at:
            raise ValidationError(gettext("The task's hours must start before they end."))

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # However a task is created (service, console, admin), its first due time follows from
        # its interval and hours; the logging service moves it on after that.
        if self.next_due_at is None:
            from jianjian.points.disinfection import next_due

            self.next_due_at = next_due(self, None)
        super().save(*args, **kwargs)


class DisinfectionLog(models.Model):
    """One task done: who, when, with which agent, optionally a photo."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    point = models.ForeignKey(
        CollectionPoint, on_delete=models.CASCADE, related_name="disinfection_logs"
    )
    task = models.ForeignKey(DisinfectionTask, on_delete=models.PROTECT, related_name="logs")
    done_at = models.DateTimeField(_("done at"))
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    done_by_label = models.CharField(_("done by"), max_length=100)
    agent = models.CharField(_("agent"), max_length=100, blank=True)
    photo = models.ImageField(_("photo"), upload_to=disinfection_photo_path, blank=True)
    # When the task was due at the moment it was done, and whether this log was in time.
    due_at = models.DateTimeField(_("was due"), null=True, blank=True)
    on_time = models.BooleanField(_("on time"), default=True)

    class Meta:
        verbose_name = _("disinfection log")
        verbose_name_plural = _("disinfection logs")
        ordering = ["-done_at"]
        indexes = [models.Index(fields=["point", "done_at"], name="disinfection_point_done")]

    def __str__(self) -> str:
        return f"{self.task} @ {self.done_at:%Y-%m-%d %H:%M}"
