"""Search by place: what a traveller types (a city, an airport's name or its code) → airports.

Matching ignores case, accents and punctuation ("sao paulo" finds São Paulo, "bombay" finds Mumbai
through the city's alternative names, which staff edit in the admin). A city means all of its
airports, so "London" covers Heathrow and Gatwick. The rules, in order:

1. "Mumbai (BOM)" (what the autocomplete shows) or a three-letter airport code is that airport: a
   code keeps its meaning whatever names are added, so links with codes always work.
2. Otherwise the whole text must be a city's name or alternative name, or an airport's name (with
   or without "International Airport" and its city's name, so "Heathrow" is Heathrow).
3. A name shared by different cities (Hyderabad in India and in Pakistan) is refused as ambiguous,
   naming the candidates and their codes: guessing would sell a ticket to the wrong country.

The index of every name is built in one query and cached under the catalogue version
(apps/flights/search_cache.py): in this process, checked with one cache read, and in the shared
cache for the other processes. City and airport edits bump the version, so an edit is seen at once.
"""

import logging
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS

from apps.flights.models import Airport
from apps.flights.search_cache import catalogue_version

logger = logging.getLogger(__name__)

# What the autocomplete shows, "Mumbai (BOM)": the code in brackets at the end.
_CODE_IN_BRACKETS = re.compile(r"\(\s*([A-Za-z]{3})\s*\)\s*$")
_AIRPORT_CODE = re.compile(r"^[A-Za-z]{3}$")
# Words an airport's name carries that a traveller leaves out.
_GENERIC_WORDS = {"international", "intl", "airport", "airfield", "aerodrome"}
# A whole day: the index changes only with the catalogue version, which names its key.
PLACE_INDEX_TTL_SECONDS = 24 * 3600


def place_key(text: str) -> str:
    """`text` as the index matches it: accents dropped, case folded, words separated by one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(re.sub(r"[\W_]+", " ", plain.casefold()).split())


@dataclass(frozen=True, slots=True)
class Place:
    """A city (all its airports) or one airport."""

    name: str  # as a heading shows it: the city's name, or the airport's code
    label: str  # "London, GB" or "London Heathrow Airport (LHR)"
    codes: tuple[str, ...]  # IATA codes, sorted
    is_city: bool


@dataclass(slots=True)
class PlaceIndex:
    time_zones: dict[str, str] = field(default_factory=dict)  # IATA code → IANA time zone
    airports: dict[str, Place] = field(default_factory=dict)  # IATA code → the airport
    names: dict[str, list[Place]] = field(default_factory=dict)  # place_key(name) → places

    def add_name(self, name: str, place: Place) -> None:
        key = place_key(name)
        if not key:
            return
        places = self.names.setdefault(key, [])
        if place not in places:
            places.append(place)


class PlaceNotFound(ValueError):
    """No place, or more than one, answers to the text; the message says which and what to do."""


def place_index_build() -> PlaceIndex:
    """Every airport, city and name of the catalogue (one query), read on the primary even inside a
    catalogue read (apps/core/db_router.py): the index is kept under the catalogue version until the
    next change, so one built from a lagging replica would outlive that replica's lag."""
    index = PlaceIndex()
    cities: dict[int, tuple[str, str, list[str], list[tuple[str, str]]]] = {}
    airports = Airport.objects.using(DEFAULT_DB_ALIAS)
    for code, name, time_zone, city_id, city_name, country, alternative_names in airports.values_list(
        "iata_code", "name", "time_zone", "city_id", "city__name", "city__country", "city__alternative_names"
    ).order_by("iata_code"):
        index.time_zones[code] = time_zone
        entry = cities.setdefault(city_id, (city_name, country, alternative_names.splitlines(), []))
        entry[3].append((code, name))
    for city_name, country, alternative_names, airports in cities.values():
        city = Place(
            name=city_name,
            label=f"{city_name}, {country}",
            codes=tuple(sorted(code for code, _ in airports)),
            is_city=True,
        )
        for name in [city_name, *alternative_names]:
            index.add_name(name, city)
        for code, airport_name in airports:
            airport = Place(name=code, label=f"{airport_name} ({code})", codes=(code,), is_city=False)
            index.airports[code] = airport
            words = [word for word in place_key(airport_name).split() if word not in _GENERIC_WORDS]
            index.add_name(airport_name, airport)
            index.add_name(" ".join(words), airport)
            city_words = place_key(city_name).split()
            if words[: len(city_words)] == city_words and words[len(city_words) :]:
                index.add_name(" ".join(words[len(city_words) :]), airport)
    for key, places in index.names.items():
        # An airport named like its own city ("Goa" for GOI) is that city, not a second candidate.
        cities_named = [place for place in places if place.is_city]
        if len(cities_named) == 1 and all(set(place.codes) <= set(cities_named[0].codes) for place in places):
            index.names[key] = cities_named
    return index


# This process's copy: (catalogue version, index).
_memo: tuple[int, PlaceIndex] | None = None


def place_index() -> PlaceIndex:
    """The place index of the current catalogue version: from this process's copy, the shared cache
    or the database, in that order. A cache that does not answer means building it (one query)."""
    global _memo
    try:
        version = catalogue_version()
    except Exception as error:  # the cache backend is pluggable; its failure must not fail a search
        logger.warning("Place index: cache unavailable, reading the database: %r", error)
        return place_index_build()
    memo = _memo
    if memo is not None and memo[0] == version:
        return memo[1]
    key = f"flights:places:{version}"
    try:
        index = cache.get(key)
    except Exception as error:
        logger.warning("Place index: could not read the cache: %r", error)
        index = None
    if index is None:
        index = place_index_build()
        try:
            cache.set(key, index, timeout=PLACE_INDEX_TTL_SECONDS)
        except Exception as error:
            logger.warning("Place index: could not store it in the cache: %r", error)
    _memo = (version, index)
    return index


def place_resolve(text: str, index: PlaceIndex | None = None) -> Place:
    """The place a traveller means by `text` (the rules are in this module's docstring).

    Raises PlaceNotFound, whose message names the text (and the candidates when it is ambiguous).
    """
    index = index or place_index()
    shown = " ".join(text.split())
    bracketed = _CODE_IN_BRACKETS.search(text)
    code = (bracketed.group(1) if bracketed else text.strip()).upper()
    if (bracketed or _AIRPORT_CODE.match(code)) and code in index.airports:
        return index.airports[code]
    places = index.names.get(place_key(text), [])
    if not places:
        raise PlaceNotFound(f"No airport or city called “{shown}”: check the spelling or enter its code.")
    if len(places) > 1:
        candidates = "; ".join(f"{place.label} ({', '.join(place.codes)})" for place in places)
        raise PlaceNotFound(f"“{shown}” names more than one place: {candidates}. Enter the airport code.")
    return places[0]


def airport_codes_check(codes: tuple[str, ...], index: PlaceIndex | None = None) -> None:
    """Raises PlaceNotFound naming the first code that is no airport of the catalogue."""
    index = index or place_index()
    for code in codes:
        if code not in index.airports:
            raise PlaceNotFound(f"No airport has the code “{code}”.")
