"""Reading an NSO table (CSV) with its checks: the one place where a table the model or
`herdtrap hindcast` reads is checked before it is used.

A table must be a UTF-8 CSV file with the named columns; numeric columns may have
empty cells (missing data) but no text and no infinity; rates lie in [0, 1] and
counts are not negative. A bad table raises :class:`NSOTableError` (a ValueError)
with one line naming the file, the column, the row and what is allowed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from model.textfile import read_utf8


class NSOTableError(ValueError):
    """An NSO table that cannot be used, with a message naming file, column and row."""


def read_table(path: Path | str, columns: Sequence[str], *, integers: Sequence[str] = (),
               rates: Sequence[str] = (), counts: Sequence[str] = ()) -> pd.DataFrame:
    """Read ``path`` and check it.

    ``columns`` must be present; ``integers`` (e.g. Year) must be whole numbers in
    every row; ``rates`` must be numbers in [0, 1] or empty; ``counts`` numbers >= 0
    or empty. Returns the table with those columns converted to numbers.
    """
    path = Path(path)
    text = read_utf8(path, error=NSOTableError, what="CSV table",
                     expected="NSO tables must be UTF-8 CSV")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise NSOTableError(f"{path}: not a CSV table ({reason})") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise NSOTableError(f"{path}: lacks column(s) {', '.join(missing)}; has "
                            f"{', '.join(df.columns) or 'none'}")
    for col in dict.fromkeys([*integers, *rates, *counts]):
        raw = df[col].str.strip()
        values = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        bad = values.isna() & (raw != "")
        if col in integers:
            bad |= values.isna() | (values.notna() & (values % 1 != 0))
        bad |= values.notna() & ~np.isfinite(values)
        if col in rates:
            bad |= values.notna() & ((values < 0) | (values > 1))
            allowed = "a rate in [0, 1] (or empty)"
        elif col in counts:
            bad |= values.notna() & (values < 0)
            allowed = "a number >= 0 (or empty)"
        else:
            allowed = "a whole number"
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise NSOTableError(f"{path}: column {col}, line {i + 2}: "
                                f"{df[col].iloc[i]!r}; allowed: {allowed}")
        df[col] = values.astype("int64") if col in integers else values.astype(float)
    for col in columns:
        if col not in dict.fromkeys([*integers, *rates, *counts]):
            df[col] = df[col].str.strip()
    return df
