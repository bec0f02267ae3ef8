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
    one page is read and mapped).

    ``page`` instead maps the whole page at once, for output that needs more than the row: it
    reads what the page's rows need in a query or two rather than a query or two per row.
    """

    def __init__(
        self,
        qs: QuerySet[Any],
        fn: Callable[[Any], dict[str, Any]] | None = None,
        *,
        page: Callable[[list[Any]], list[dict[str, Any]]] | None = None,
    ) -> None:
        assert (fn is None) != (page is None), "give fn or page"
        self.qs = qs
        self.page = page or (lambda rows: [fn(row) for row in rows])  # type: ignore[misc]

    def all(self) -> QuerySet[Any]:
        return self.qs

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return self.page(list(self.qs[item]))

    def __len__(self) -> int:
        return self.qs.count()
