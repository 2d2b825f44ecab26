"""Dated policy schedules: the years a programme is in force and levers that change by year.

Any policy accepts ``start_year`` and ``end_year`` (calendar years, inclusive; the
``active_years`` lever group of model/policies/levers.toml): outside them it makes no
new payments, sales or enrolments (it only settles what it committed while in force).
A lever the policy reads afresh every year (its class's ``yearly_levers``) may have a
schedule ``<lever>_by_year``, a TOML table of calendar year -> value::

    [policies.child_money]
    amount = 100.0                     # from the year after the last listed year on

    [policies.child_money.amount_by_year]
    "2005" = 3.0                       # MNT 3,000 a month in 2005 and 2006
    "2007" = 5.667
    "2023" = 100.0

or, as before, a string ``"2005:3, 2007:5.667"``. The value in calendar year Y is the
value of the latest listed year <= Y as long as Y <= the last listed year, and the
plain lever (``amount``) before the first and after the last listed year: the table is
the history, the plain lever today's rule (so a reform that sets ``amount`` changes
every year after the history, and one that adds a year to the table changes that year
on). Each value is checked like the lever itself (type, range); years are whole
numbers in [1900, 2200]. Resolved, a schedule is stored as its canonical string
(``"2005:3.0, 2007:5.667"``), so that every lever stays a plain value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.parameters import Param, ParameterError

SCHEDULE_SUFFIX = "_by_year"
YEAR_MIN, YEAR_MAX = 1900, 2200


def _year(key: Any, where: str) -> int:
    text = str(key).strip()
    if isinstance(key, bool) or not text.isdigit():
        raise ParameterError(f"{where}: {key!r} is not a calendar year; allowed: a year "
                             f"{YEAR_MIN}-{YEAR_MAX} as a key, e.g. \"2005\" = ...")
    year = int(text)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ParameterError(f"{where}: year {year} is outside [{YEAR_MIN}, {YEAR_MAX}]")
    return year


def _text_value(lever: Param, text: str, where: str) -> Any:
    """A value written in the string form, converted to the lever's type."""
    t = text.strip()
    if lever.type == "str":
        return t
    if lever.type == "bool":
        if t.lower() in ("true", "false"):
            return t.lower() == "true"
        raise ParameterError(f"{where}: {t!r} is not true or false")
    try:
        return int(t) if lever.type == "int" else float(t)
    except ValueError:
        raise ParameterError(f"{where}: {t!r} is not a number ({lever.unit})") from None


def parse_dated(lever: Param, value: Any, where: str) -> list[tuple[int, Any]]:
    """[(year, value)] sorted by year from a TOML table or a "YEAR:VALUE, ..." string;
    every value checked like the lever (ParameterError naming ``where``)."""
    items: list[tuple[int, Any]] = []
    if isinstance(value, Mapping):
        for key, v in value.items():
            year = _year(key, where)
            items.append((year, lever.validate(v, f"{where}.\"{year}\"")))
    elif isinstance(value, str):
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if part.count(":") != 1:
                raise ParameterError(f"{where}: {part!r} is not YEAR:VALUE "
                                     "(e.g. \"2020:100\"), or give a table of year = value")
            y, v = part.split(":")
            year = _year(y, where)
            items.append((year, lever.validate(_text_value(lever, v, where),
                                               f"{where}.\"{year}\"")))
    else:
        raise ParameterError(f"{where} must be a table of year = value (or \"YEAR:VALUE, ...\"), "
                             f"got {value!r}")
    years = [y for y, _ in items]
    if len(set(years)) != len(years):
        dup = next(y for y in years if years.count(y) > 1)
        raise ParameterError(f"{where}: year {dup} is given twice")
    return sorted(items, key=lambda kv: kv[0])


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return f"{v!r}" if isinstance(v, float) else str(v)


def validate_dated(lever: Param, value: Any, where: str) -> str:
    """The canonical string of a schedule (checked); "" for an empty one."""
    items = parse_dated(lever, value, where)
    for _, v in items:
        if isinstance(v, str) and ("," in v or ":" in v):
            raise ParameterError(f"{where}: {v!r} may not contain ',' or ':'")
    return ", ".join(f"{y}:{_fmt(v)}" for y, v in items)


def value_in_year(schedule: list[tuple[int, Any]], year: int, plain: Any) -> Any:
    """The value in calendar ``year``: the latest listed year <= ``year`` while ``year``
    is within the listed years, else ``plain``."""
    if not schedule or year < schedule[0][0] or year > schedule[-1][0]:
        return plain
    value = plain
    for y, v in schedule:
        if y <= year:
            value = v
    return value
