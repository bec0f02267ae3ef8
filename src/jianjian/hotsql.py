"""The scan path's few hot statements, written once per process instead of compiled per request.

Building a query through the ORM (``filter`` → ``as_sql`` → converters) costs more CPU than
PostgreSQL spends running it: a single scan's ~14 statements were half of its server time
(docs/benchmarks.md). The statements here are the same ones the ORM would send — the same
tables, columns, ``community_id`` first, ``FOR UPDATE`` where the kernel locks — but their text is
built from the models' metadata once, and rows come back through the fields' own converters
(:meth:`Model.from_db`), so instances are what a queryset would have returned.

Only what the hot path needs: select one model's rows by a fixed ``WHERE`` (a list of values as
one array on PostgreSQL), insert rows (``RETURNING`` their ids; SQLite ≥ 3.35 and PostgreSQL
both have it), and build the instances a batch makes by the hundred without ``Model.__init__``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import Field, Model, signals
from django.db.models.base import ModelState

M = TypeVar("M", bound=Model)

_TEXTS: dict[Hashable, str] = {}
_CONVERTERS: dict[type[Model], list[tuple[int, list[Callable[..., Any]], Any]]] = {}
_INSERTS: dict[tuple[type[Model], int, bool], tuple[str, Any]] = {}


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
    return built(
        (model, where, suffix),
        lambda: f"SELECT {column_list(model)} FROM {table(model)} WHERE {where} {suffix}".strip(),
    )


def built(key: Hashable, build: Callable[[], str]) -> str:
    """The statement text ``build`` makes, made once per ``key`` in this process (a bounded
    number of keys: past it, texts are made each time rather than kept)."""
    text = _TEXTS.get(key)
    if text is None:
        text = build()
        if len(_TEXTS) < 2048:
            _TEXTS[key] = text
    return text


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


def _plain_init(model: type[Model]) -> bool:
    """Whether ``model``'s instances can be filled in directly: Django's own ``__init__`` (no
    override of ours) and nobody listening for ``post_init`` (an ImageField's dimensions…)."""
    return model.__init__ is Model.__init__ and not signals.post_init.has_listeners(model)


def instance(model: type[M], row: Sequence[Any]) -> M:
    """One model instance from a row of :func:`column_list`'s columns (from the ``default``
    database, as the scan path's queries are).

    What :meth:`Model.from_db` builds, without its ``__init__``: that sets each of a row's
    twenty-odd fields through its descriptor, and a batch reads and builds hundreds of rows. The
    values go into the instance's ``__dict__``, where every field's descriptor reads them."""
    values = list(row)
    for i, convs, col in _converters(model):
        value = values[i]
        for conv in convs:
            value = conv(value, col, connection)
        values[i] = value
    names = _attnames(model)
    if not _plain_init(model):
        return model.from_db("default", names, values)
    obj = model.__new__(model)
    obj.__dict__.update(zip(names, values, strict=True))
    obj._state = ModelState()
    _stored(obj)
    return obj


def _attnames(model: type[Model]) -> list[str]:
    names = _ATTNAMES.get(model)
    if names is None:
        names = _ATTNAMES[model] = [f.attname for f in model._meta.concrete_fields]
    return names


_ATTNAMES: dict[type[Model], list[str]] = {}


def _stored(obj: Model, pk: Any = None) -> None:
    """Mark ``obj`` as a row of the ``default`` database (with its new ``pk``, if given), as
    the ORM does after a read or an insert."""
    if pk is not None:
        obj.pk = pk
    obj._state.adding = False
    obj._state.db = "default"


# A new instance's defaults: the constant ones (None, text, numbers) and those computed anew
# for each instance (``dict`` for a JSON field…); and the foreign keys a value may be given by
# name (a related object) rather than by attname (its id).
Blueprint = tuple[dict[str, Any], list[tuple[str, Callable[[], Any]]], set[str], dict[str, Any]]
_BLUEPRINTS: dict[type[Model], Blueprint] = {}


def _blueprint(model: type[Model]) -> Blueprint:
    found = _BLUEPRINTS.get(model)
    if found is None:
        constant: dict[str, Any] = {}
        computed: list[tuple[str, Callable[[], Any]]] = []
        relations: dict[str, Any] = {}
        for field in model._meta.concrete_fields:
            if field.is_relation:
                relations[field.name] = field
            if field.has_default() and callable(field.default):
                computed.append((field.attname, field.get_default))
            else:
                constant[field.attname] = field.get_default()
        found = (constant, computed, set(_attnames(model)), relations)
        _BLUEPRINTS[model] = found
    return found


def new(model: type[M], **values: Any) -> M:
    """``model(**values)`` for the rows the scan path writes by the hundred: the same instance
    (defaults, a related object given by name cached on it as its descriptor would), filled in
    directly rather than field by field through ``Model.__init__``."""
    if not _plain_init(model):
        return model(**values)
    constant, computed, attnames, relations = _blueprint(model)
    obj = model.__new__(model)
    data = obj.__dict__
    data.update(constant)
    for attname, default in computed:
        data[attname] = default()
    obj._state = state = ModelState()
    for key, value in values.items():
        if key in relations:
            field = relations[key]
            data[field.attname] = (
                None if value is None else getattr(value, field.target_field.attname)
            )
            state.fields_cache[key] = value
        elif key in attnames:
            data[key] = value
        else:
            raise TypeError(f"{model.__name__}() got an unexpected keyword argument {key!r}")
    return obj


def fetch(model: type[M], sql: str, params: Sequence[Any]) -> list[M]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [instance(model, row) for row in rows]


def any_of(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``<column> IN (…values)`` as a condition and its parameters. On PostgreSQL one array
    parameter (``= ANY(%s)``): the text is the same for any number of values, so psycopg parses
    it once and the server prepares it once, where an ``IN`` list is a new statement for each
    count (and past 50 parameters psycopg parses it on every call). SQLite has no arrays."""
    if connection.vendor == "postgresql":
        # Binary when the server binds: psycopg packs the array instead of quoting each element.
        return f"{column} = ANY({'%b' if _server_binding() else '%s'})", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def fetch_in(model: type[M], column: str, values: Sequence[Any]) -> list[M]:
    """``model.objects.filter(<column>__in=values)``: the rows whose ``column`` is one of
    ``values`` (none asked, none read)."""
    if not values:
        return []
    where, params = any_of(quote(column), values)
    return fetch(model, select_sql(model, where), params)


def split(row: Sequence[Any], *models: type[Model]) -> list[Model]:
    """Instances of ``models`` from one row that joined their :func:`column_list` in order."""
    out, start = [], 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        out.append(instance(model, row[start:end]))
        start = end
    return out


Plan = list[tuple[Any, bool, tuple[type[Any], ...]]]  # (field, own pre_save, plain types)


def _plan(fields: list[Field[Any, Any]]) -> Plan:
    """For each field: itself, whether it has its own ``pre_save`` (``auto_now``…), and the value
    types the ORM would pass to the driver unchanged."""
    plain = dict(_PLAIN)
    if connection.vendor == "postgresql":
        # psycopg takes an aware datetime as it is (adapt_datetimefield_value returns it);
        # SQLite's backend turns it into text, so there it goes through the field.
        plain[models.DateTimeField] = (_Aware,)
    return [(f, type(f).pre_save is not Field.pre_save, plain.get(type(f), ())) for f in fields]


class _Aware:
    """Marks "an aware datetime" among a field's plain types (checked in :func:`_prepared`)."""


def _prepared(obj: Model, plan: Plan) -> list[Any]:
    """What the ORM's insert sends for ``obj``: ``pre_save`` where the field has its own, then
    ``get_db_prep_save`` — skipped for the plain values it would pass through unchanged (a str,
    an int, a bool, None), which are most of a row."""
    values = []
    for f, own_pre_save, plain in plan:
        value = f.pre_save(obj, True) if own_pre_save else getattr(obj, f.attname)
        kind = type(value)
        if (
            value is None
            or kind in plain
            or (str in plain and isinstance(value, str))  # text choices are str subclasses
            or (_Aware in plain and kind is dt.datetime and value.tzinfo is not None)
        ):
            values.append(value)
        else:
            values.append(f.get_db_prep_save(value, connection))
    return values


# Field classes whose values of these exact types reach the driver as they are.
_PLAIN: dict[type[Any], tuple[type[Any], ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.IntegerField: (int,),
    models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
    models.BooleanField: (bool,),
    models.ForeignKey: (int,),
}


def _insert_sql(model: type[Model], rows: int, ignore_conflicts: bool = False) -> tuple[str, Plan]:
    key = (model, rows, ignore_conflicts)
    cached = _INSERTS.get(key)
    if cached is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        pk = meta.pk
        assert pk is not None
        cols = ", ".join(quote(f.column) for f in fields)
        if _unnest(fields, rows):
            # One array a column, as Django's own bulk_create on PostgreSQL: the text stays
            # short and the same for any number of rows (psycopg re-parses a long text on
            # every call, and PostgreSQL plans fewer parameters).
            # Sent in binary when the server binds the parameters: psycopg then packs each array
            # instead of quoting every element as text (most of a batch's time in psycopg).
            mark = "%b" if _server_binding() else "%s"
            arrays = ", ".join(
                f"({mark})::{str(f.db_type(connection)).split('(')[0]}[]" for f in fields
            )
            values = f"SELECT * FROM UNNEST({arrays})"
        else:
            row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            values = f"VALUES {', '.join([row] * rows)}"
        sql = f"INSERT INTO {table(model)} ({cols}) {values} " + (
            "ON CONFLICT DO NOTHING" if ignore_conflicts else f"RETURNING {quote(pk.column)}"
        )
        cached = (sql, _plan(fields))
        if len(_INSERTS) < 256:
            _INSERTS[key] = cached
    return cached


def _server_binding() -> bool:
    """Whether psycopg binds the parameters on the server (``JIANJIAN_DB_PREPARED``), which
    lets a statement ask for binary parameters."""
    return connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is True


def _unnest(fields: list[Field[Any, Any]], rows: int) -> bool:
    """Whether rows go in as arrays: on PostgreSQL, for several rows of standard column types
    (Django's own test in ``SQLInsertCompiler.assemble_as_sql``)."""
    return (
        connection.vendor == "postgresql"
        and rows > 1
        and not any(hasattr(f, "get_placeholder") for f in fields)
        and all(
            (f.target_field if f.is_relation else f).get_internal_type()  # type: ignore[attr-defined]
            in connection.data_types
            for f in fields
        )
    )


def insert(obj: Model) -> None:
    """``obj.save(force_insert=True)`` in one statement built once: every concrete column but the
    id, each value prepared by its field as the ORM does, the new id read back with
    ``RETURNING``. For models with no ``save()`` logic and no signal receivers of their own (the
    parcel, the custody event)."""
    insert_many([obj])


Statement = tuple[str, list[Any]]  # SQL text and its parameters


def insert_pair(parent: Model, child: Model, link: str, *, after: Statement | None = None) -> None:
    """``after`` (an UPDATE, if any), :func:`insert` ``parent``, then ``child`` pointing at it
    through its foreign key ``link`` (an attname): on PostgreSQL one statement, whose second
    insert selects the first one's new id (a point's counts, a new parcel and its first custody
    event); elsewhere one statement each."""
    if connection.vendor != "postgresql":
        if after is not None:
            with connection.cursor() as cursor:
                cursor.execute(*after)
        insert(parent)
        setattr(child, link, parent.pk)
        insert(child)
        return
    text, parent_plan, child_plan, tenant = _pair_sql(type(parent), type(child), link)
    params = _prepared(parent, parent_plan) + _prepared(child, child_plan)
    if tenant:
        params.append(parent.community_id)  # type: ignore[attr-defined]
    if after is not None:
        # A data-modifying CTE runs whether or not the rest reads it.
        text = f"WITH a AS ({after[0]}), {text.removeprefix('WITH ')}"
        params = after[1] + params
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        parent_pk, child_pk = cursor.fetchone()
    _stored(parent, parent_pk)
    _stored(child, child_pk)
    setattr(child, link, parent_pk)


_PAIRS: dict[tuple[type[Model], type[Model], str], tuple[str, Plan, Plan, bool]] = {}


def _pair_sql(parent: type[Model], child: type[Model], link: str) -> tuple[str, Plan, Plan, bool]:
    """The statement, each row's plan, and whether it names the rows' community (a parameter
    more)."""
    cached = _PAIRS.get((parent, child, link))
    if cached is not None:
        return cached
    parent_sql, parent_plan = _insert_sql(parent, 1)
    fields = [f for f in child._meta.concrete_fields if not f.primary_key]
    # Typed, as a SELECT's output takes no type from the columns it goes into.
    values = ", ".join(
        "p.id" if f.attname == link else f"%s::{f.db_type(connection)}" for f in fields
    )
    pk = child._meta.pk
    assert pk is not None
    (link_column,) = [f.column for f in fields if f.attname == link]
    tenant = {"community_id"} <= {f.attname for f in parent._meta.concrete_fields} & {
        f.attname for f in fields
    }
    where = ""
    if tenant:
        # Both rows name their community, and so does the statement: the tenant key that would
        # route it to one node of a distributed database (docs/scale.md).
        parent_sql += f", {quote('community_id')}"
        where = " WHERE p.community_id = %s"
    text = (
        f"WITH p AS ({parent_sql}) "
        f"INSERT INTO {table(child)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {values} FROM p{where} RETURNING {quote(link_column)}, {quote(pk.column)}"
    )
    cached = (text, parent_plan, _plan([f for f in fields if f.attname != link]), tenant)
    _PAIRS[(parent, child, link)] = cached
    return cached


def insert_many(objs: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """:func:`insert` for several rows of one model in one statement (``bulk_create``'s rows,
    ids set from ``RETURNING`` in the rows' order, as ``bulk_create`` reads them).

    ``ignore_conflicts``: a row that would break a unique constraint is skipped (``ON CONFLICT
    DO NOTHING``, PostgreSQL and SQLite alike), and, as with ``bulk_create``, no ids are set.
    """
    if not objs:
        return
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    size = max(connection.ops.bulk_batch_size(fields, objs), 1)  # SQLite's parameter limit
    # (the text of an UNNEST insert is the same for any number of rows: cached once a model)
    for start in range(0, len(objs), size):
        chunk = objs[start : start + size]
        text, plan = _insert_sql(model, len(chunk), ignore_conflicts)
        params: list[Any] = []
        for obj in chunk:
            params += _prepared(obj, plan)
        if _unnest(fields, len(chunk)):
            width = len(fields)
            params = [params[i::width] for i in range(width)]  # one list a column
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            if ignore_conflicts:
                continue
            ids = cursor.fetchall()
        assert len(ids) == len(chunk)
        for obj, (pk,) in zip(chunk, ids, strict=True):
            _stored(obj, pk)
