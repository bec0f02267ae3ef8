"""The scan path's few hot statements, written once per process instead of compiled per request.

Building a query through the ORM (``filter`` → ``as_sql`` → converters) costs more CPU than
PostgreSQL spends running it: a single scan's ~14 statements were half of its server time
(docs/benchmarks.md). The statements here are the same ones the ORM would send — the same
tables, columns, ``community_id`` first, ``FOR UPDATE`` where the kernel locks — but their text is
built from the models' metadata once, and rows come back through the fields' own converters
(:meth:`Model.from_db`), so instances are what a queryset would have returned.

Only what the hot path needs: select one model's rows by a fixed ``WHERE``, and insert one row
(``RETURNING`` its id; SQLite ≥ 3.35 and PostgreSQL both have it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)

_SELECTS: dict[tuple[type[Model], str], str] = {}
_CONVERTERS: dict[type[Model], list[tuple[int, list[Callable[..., Any]], Any]]] = {}
_INSERTS: dict[type[Model], tuple[str, list[Field[Any, Any]]]] = {}


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


def column_list(model: type[Model], alias: str = "") -> str:
    """Every concrete column of ``model``, in field order (what :meth:`Model.from_db` takes)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(f.column) for f in model._meta.concrete_fields)


def select_sql(model: type[Model], where: str, suffix: str = "") -> str:
    """``SELECT <every column> FROM <table> WHERE <where> <suffix>``, built once."""
    key = (model, where + "\0" + suffix)
    sql = _SELECTS.get(key)
    if sql is None:
        sql = f"SELECT {column_list(model)} FROM {table(model)} WHERE {where} {suffix}".strip()
        _SELECTS[key] = sql
    return sql


def _converters(model: type[Model]) -> list[tuple[int, list[Callable[..., Any]], Any]]:
    """The database converters of each column that has any (dates on SQLite, JSON, …), as the
    ORM's compiler would apply them."""
    found = _CONVERTERS.get(model)
    if found is None:
        found = []
        for i, field in enumerate(model._meta.concrete_fields):
            col = field.get_col(model._meta.db_table)
            convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if convs:
                found.append((i, convs, col))
        _CONVERTERS[model] = found
    return found


def instance(model: type[M], row: Sequence[Any]) -> M:
    """One model instance from a row of :func:`column_list`'s columns (from the ``default``
    database, as the scan path's queries are)."""
    values = list(row)
    for i, convs, col in _converters(model):
        value = values[i]
        for conv in convs:
            value = conv(value, col, connection)
        values[i] = value
    names = [f.attname for f in model._meta.concrete_fields]
    return model.from_db("default", names, values)


def fetch(model: type[M], sql: str, params: Sequence[Any]) -> list[M]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [instance(model, row) for row in rows]


def split(row: Sequence[Any], *models: type[Model]) -> list[Model]:
    """Instances of ``models`` from one row that joined their :func:`column_list` in order."""
    out, start = [], 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        out.append(instance(model, row[start:end]))
        start = end
    return out


def insert(obj: Model) -> None:
    """``obj.save(force_insert=True)`` in one statement built once: every concrete column but the
    id, each value prepared by its field (``pre_save`` fills ``auto_now``/``auto_now_add``), the
    new id read back with ``RETURNING``. For models with no ``save()`` logic and no signal
    receivers of their own (the parcel, the custody event)."""
    cached = _INSERTS.get(type(obj))
    if cached is None:
        meta = type(obj)._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        pk = meta.pk
        assert pk is not None
        cols = ", ".join(quote(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = (
            f"INSERT INTO {table(type(obj))} ({cols}) VALUES ({marks}) RETURNING {quote(pk.column)}"
        )
        cached = (sql, fields)
        _INSERTS[type(obj)] = cached
    sql, fields = cached
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (obj.pk,) = cursor.fetchone()
    obj._state.adding = False
    obj._state.db = "default"
