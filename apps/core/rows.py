"""Model instances from rows of SQL written by hand, converted as the ORM converts them.

The hot path reads a few rows with SQL of its own (apps/flights/selectors.py, apps/core/locking.py);
`Manager.raw()` would build the instances, but re-derives its column mapping and converters on every
call, which cost a fifth of a hold's CPU under load (docs/PROFILE.md). Here both are worked out once
per model and column list; each value then goes through the converters the ORM itself would apply
(the backend's: an aware datetime from MariaDB's naive one, a Decimal from SQLite's number; and the
field's own), so an instance built here is the instance a queryset would have built.
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

Converter = Callable[[Any, Any, Any], Any]


def model_from_row(model: type[M], columns: Sequence[str], values: Sequence[Any]) -> M:
    """An instance of `model` with `columns` (attribute names, e.g. "airplane_id") set from `values`,
    the other fields deferred, as `QuerySet.only(*columns)` would have built it."""
    order, plan = _plan(model, tuple(columns), connection.vendor)
    ordered = [_converted(values[index], converters, expression) for index, converters, expression in plan]
    return model.from_db(connection.alias, order, ordered)


def row_converter(fields: Sequence[tuple[type[models.Model], str]]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function converting a row's values as `QuerySet.values()` would have converted them, the
    i-th as the field named by the i-th (model, attribute name) pair of `fields`."""
    plan = [_field_converters(model, attname, connection.vendor) for model, attname in fields]

    def convert(values: Sequence[Any]) -> list[Any]:
        return [
            _converted(value, converters, expression)
            for value, (converters, expression) in zip(values, plan, strict=True)
        ]

    return convert


def _converted(value: Any, converters: list[Converter], expression: Any) -> Any:
    if value is not None:
        for convert in converters:
            value = convert(value, expression, connection)
    return value


@functools.lru_cache(maxsize=256)
def _field_converters(model: type[models.Model], attname: str, vendor: str) -> tuple[list[Converter], Any]:
    """The converters the ORM applies to a value of the field (the backend's, then the field's own)."""
    field = next((field for field in model._meta.concrete_fields if field.attname == attname), None)
    if field is None:
        raise ValueError(f"{model.__name__} has no field {attname}")
    expression = field.get_col(model._meta.db_table)
    return [*connection.ops.get_db_converters(expression), *field.get_db_converters(connection)], expression


@functools.lru_cache(maxsize=64)
def _plan(
    model: type[models.Model], columns: tuple[str, ...], vendor: str
) -> tuple[list[str], list[tuple[int, list[Converter], Any]]]:
    """The columns in the model's field order (what `from_db` expects) with each one's converters."""
    order = [field.attname for field in model._meta.concrete_fields if field.attname in columns]
    unknown = set(columns) - set(order)
    if unknown:
        raise ValueError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    return order, [(columns.index(attname), *_field_converters(model, attname, vendor)) for attname in order]
