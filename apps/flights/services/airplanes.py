"""Writes of airplanes and their seat layouts (a flight's seats are its airplane's layout).

Every write validates the whole resulting state first and raises ValidationFailed with `errors`
naming each bad field (the rules the database constraints enforce, so a client learns which field
is wrong instead of meeting an IntegrityError), then writes in one transaction and bumps the search
cache's catalogue version once that transaction commits.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from apps.core.exceptions import ValidationFailed
from apps.core.locking import locked_transaction
from apps.flights.exceptions import AirplaneInService
from apps.flights.locks import airplane_lock
from apps.flights.models import Airplane, Cabin, CabinSection
from apps.flights.search_cache import catalogue_changed

MAX_ROW = 150
REGISTRATION_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,9}$")
SEAT_LETTERS_RE = re.compile(r"^[A-K]{1,12}$")

Layout = tuple[tuple[str, int, int, str], ...]


def _layout(cabin_sections: Sequence[Mapping[str, Any]]) -> Layout:
    return tuple(
        sorted(
            (s["cabin"], int(s["first_row"]), int(s["last_row"]), str(s["seat_letters"]).upper())
            for s in cabin_sections
        )
    )


def layout_errors(cabin_sections: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """What is wrong with a seat layout, keyed `cabin_sections` or `cabin_sections.<i>.<field>`.

    A layout has at least one section and an economy cabin (its fare is the flight's base fare);
    each section has a known cabin, rows 1..MAX_ROW in order and distinct seat letters A–K; no two
    sections share a row.
    """
    errors: dict[str, list[str]] = {}
    if not cabin_sections:
        return {"cabin_sections": ["A layout needs at least one cabin section."]}
    taken_rows: dict[int, int] = {}
    for index, section in enumerate(cabin_sections):
        prefix = f"cabin_sections.{index}"
        cabin = section.get("cabin")
        first_row, last_row = section.get("first_row"), section.get("last_row")
        letters = str(section.get("seat_letters") or "").upper()
        if cabin not in Cabin.values:
            errors[f"{prefix}.cabin"] = [f"Must be one of {', '.join(Cabin.values)}."]
        rows_valid = True
        for name, value in (("first_row", first_row), ("last_row", last_row)):
            if not isinstance(value, int) or not 1 <= value <= MAX_ROW:
                errors[f"{prefix}.{name}"] = [f"Must be a row number from 1 to {MAX_ROW}."]
                rows_valid = False
        if rows_valid and last_row < first_row:
            errors[f"{prefix}.last_row"] = ["Must not be before first_row."]
            rows_valid = False
        if not SEAT_LETTERS_RE.match(letters) or len(set(letters)) != len(letters):
            errors[f"{prefix}.seat_letters"] = ["Must be 1 to 12 distinct letters from A to K."]
        if rows_valid:
            for row in range(first_row, last_row + 1):
                if row in taken_rows:
                    errors.setdefault(f"{prefix}.first_row", []).append(
                        f"Row {row} is already in section {taken_rows[row]}."
                    )
                    break
                taken_rows[row] = index
    if not errors and not any(section["cabin"] == Cabin.ECONOMY for section in cabin_sections):
        errors["cabin_sections"] = ["A layout needs an economy section (its fare is the base fare)."]
    return errors


def _airplane_errors(*, model_name: str, registration: str, airplane_id: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not model_name.strip() or len(model_name) > 50:
        errors["model_name"] = ["Must be 1 to 50 characters."]
    if not REGISTRATION_RE.match(registration):
        errors["registration"] = ["Must be 2 to 10 letters, digits or hyphens, e.g. VT-ANA."]
    elif Airplane.objects.filter(registration=registration).exclude(pk=airplane_id).exists():
        errors["registration"] = ["Another airplane has this registration."]
    return errors


def _sections_replace(airplane: Airplane, cabin_sections: Sequence[Mapping[str, Any]]) -> None:
    airplane.cabin_sections.all().delete()
    sections = CabinSection.objects.bulk_create(
        CabinSection(
            airplane=airplane,
            cabin=cabin,
            first_row=first_row,
            last_row=last_row,
            seat_letters=letters,
        )
        for cabin, first_row, last_row, letters in _layout(cabin_sections)
    )
    airplane.capacity = sum(section.seat_count for section in sections)
    airplane.save(update_fields=["capacity", "updated_at"])


def airplane_create(
    *, model_name: str, registration: str, cabin_sections: Sequence[Mapping[str, Any]]
) -> Airplane:
    """Create an airplane with its seat layout; its capacity is the number of seats in the layout.

    Raises ValidationFailed naming `model_name`, `registration` (malformed or already used) or the
    layout (see `layout_errors`).
    """
    registration = registration.strip().upper()
    errors = {
        **_airplane_errors(model_name=model_name, registration=registration, airplane_id=None),
        **layout_errors(cabin_sections),
    }
    if errors:
        raise ValidationFailed("The airplane is invalid.", errors=errors)
    try:
        with transaction.atomic():
            airplane = Airplane.objects.create(model_name=model_name.strip(), registration=registration)
            _sections_replace(airplane, cabin_sections)
            catalogue_changed()
    except IntegrityError:  # a concurrent create took the registration between check and insert
        raise ValidationFailed(errors={"registration": ["Another airplane has this registration."]}) from None
    return airplane


def airplane_update(*, airplane_id: int, data: Mapping[str, Any]) -> Airplane:
    """Change an airplane's `model_name`, `registration` and/or `cabin_sections` (replaced whole).

    The layout of an airplane that has flights cannot change (their seats and bookings follow it):
    AirplaneInService (409). Raises AirplaneNotFound (404) and ValidationFailed as for create.
    """
    with locked_transaction(durable=False):
        airplane = airplane_lock(airplane_id=airplane_id)
        model_name = data.get("model_name", airplane.model_name)
        registration = str(data.get("registration", airplane.registration)).strip().upper()
        errors = _airplane_errors(model_name=model_name, registration=registration, airplane_id=airplane.pk)
        sections = data.get("cabin_sections")
        layout_changes = False
        if sections is not None:
            errors.update(layout_errors(sections))
            layout_changes = not errors and _layout(sections) != _layout(
                list(airplane.cabin_sections.values("cabin", "first_row", "last_row", "seat_letters"))
            )
        if errors:
            raise ValidationFailed("The airplane is invalid.", errors=errors)
        if layout_changes:
            if airplane.flights.exists():
                raise AirplaneInService("The layout of an airplane with flights cannot change.")
            _sections_replace(airplane, sections)
        airplane.model_name, airplane.registration = model_name.strip(), registration
        try:
            with transaction.atomic():
                airplane.save(update_fields=["model_name", "registration", "updated_at"])
        except IntegrityError:
            raise ValidationFailed(
                errors={"registration": ["Another airplane has this registration."]}
            ) from None
        catalogue_changed()
    return airplane


def airplane_capacity_refresh(*, airplane_id: int) -> Airplane:
    """Recompute an airplane's capacity from its sections (after the admin edited them inline).

    The admin only offers the layout for editing while the airplane has no flights. Raises
    AirplaneNotFound.
    """
    with locked_transaction(durable=False):
        airplane = airplane_lock(airplane_id=airplane_id)
        airplane.capacity = sum(section.seat_count for section in airplane.cabin_sections.all())
        airplane.save(update_fields=["capacity", "updated_at"])
        catalogue_changed()
    return airplane


def airplane_delete(*, airplane_id: int) -> None:
    """Delete an airplane that has no flights; otherwise AirplaneInService (409).

    Raises AirplaneNotFound (404).
    """
    with locked_transaction(durable=False):
        airplane = airplane_lock(airplane_id=airplane_id)
        if airplane.flights.exists():
            raise AirplaneInService("An airplane with flights cannot be deleted.")
        try:
            airplane.delete()
        except ProtectedError:
            raise AirplaneInService("An airplane with flights cannot be deleted.") from None
        catalogue_changed()
