"""Reading the TOML spec files of the commands (sensitivity, frontier, futures): one reader
and one typed-key check, so a bad spec is the same kind of one-line UsageError everywhere
(file and key named; the command line turns it into exit code 2)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments.errors import UsageError


def read_toml(path: str | Path, what: str = "spec file") -> dict[str, Any]:
    """The TOML content of ``path``; UsageError if it is missing, a folder, not UTF-8 or
    not TOML."""
    from model.textfile import read_utf8

    path = Path(path)
    text = read_utf8(path, error=UsageError, what=what, folder_hint=" (give a .toml file)",
                     expected=f"{what}s must be UTF-8 TOML")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def need(raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
         default: Any = ...) -> Any:
    """``raw[key]`` checked to be of ``kind`` (a bool is not an int); ``default`` if it is
    missing, or UsageError when no default is given."""
    if key not in raw:
        if default is ...:
            raise UsageError(f"{where}: missing key {key!r}")
        return default
    value = raw[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise UsageError(f"{where}: {key} must be of type {names}, got {value!r}")
    return value
