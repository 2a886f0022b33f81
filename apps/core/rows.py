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
    order, converters = _plan(model, tuple(columns), connection.vendor)
    ordered = []
    for index, field_converters, expression in converters:
        value = values[index]
        if value is not None:
            for convert in field_converters:
                value = convert(value, expression, connection)
        ordered.append(value)
    return model.from_db(connection.alias, order, ordered)


@functools.lru_cache(maxsize=64)
def _plan(
    model: type[models.Model], columns: tuple[str, ...], vendor: str
) -> tuple[list[str], list[tuple[int, list[Converter], Any]]]:
    """The columns in the model's field order (what `from_db` expects) with each one's converters."""
    fields = {field.attname: field for field in model._meta.concrete_fields}
    unknown = [column for column in columns if column not in fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no field {', '.join(unknown)}")
    order = [field.attname for field in model._meta.concrete_fields if field.attname in columns]
    plan = []
    for attname in order:
        field = fields[attname]
        expression = field.get_col(model._meta.db_table)
        converters = [*connection.ops.get_db_converters(expression), *field.get_db_converters(connection)]
        plan.append((columns.index(attname), converters, expression))
    return order, plan
