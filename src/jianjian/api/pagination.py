"""Every list is paginated: ``limit`` (1–500, default 50) and ``offset``; answers carry ``count``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination


class Pages(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0, le=10_000_000)


class Mapped:
    """A queryset whose sliced items come out through ``fn`` (the paginator slices it, so only
    one page is read and mapped)."""

    def __init__(self, qs: QuerySet[Any], fn: Callable[[Any], dict[str, Any]]) -> None:
        self.qs, self.fn = qs, fn

    def all(self) -> QuerySet[Any]:
        return self.qs

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [self.fn(row) for row in self.qs[item]]

    def __len__(self) -> int:
        return self.qs.count()
