"""Tables and text of the trigger scorecard (experiments/analysis/triggers.py) for
`herdtrap compare` and `herdtrap brief`."""

from __future__ import annotations

import math

import pandas as pd

from experiments.analysis.triggers import RATES, Scorecard, fired_list


def _pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.0%}"


def _cell(row: pd.Series, col: str) -> str:
    m, lo, hi = row[col], row[f"{col}_low"], row[f"{col}_high"]
    if math.isnan(m):
        return "n/a"
    if math.isnan(lo):
        return _pct(m)
    return f"{_pct(m)} [{_pct(lo)}, {_pct(hi)}]"


def note(card: Scorecard) -> str:
    return (f"Bad winter: a soum's SFU-weighted mortality index of at least "
            f"{card.bad_winter:.0%}. Basis risk: covered households (insured; children in the "
            f"band) that lost more than {card.loss:.0%} of their herd and were awarded nothing "
            "for that winter. 95% intervals over replicates.")


def display(card: Scorecard) -> pd.DataFrame:
    t = card.table
    out = pd.DataFrame({"scenario": t["scenario"], "policy": t["policy"]})
    for col, header in RATES:
        out[header.format(loss=f"{card.loss:.0%}")] = [_cell(r, col) for _, r in t.iterrows()]
    return out


def years_display(card: Scorecard, max_years: int = 40) -> pd.DataFrame:
    """Per scenario and policy, the winters its trigger fired (in at least half the
    replicates), as NSO loss years."""
    rows = []
    for r in card.table.itertuples():
        years = fired_list(card, r.scenario, r.policy)
        shown = ", ".join(map(str, years[:max_years])) + (" …" if len(years) > max_years else "")
        rows.append([r.scenario, r.policy, shown or "none"])
    return pd.DataFrame(rows, columns=["scenario", "policy",
                                       "winters fired (NSO loss year, the winter's end)"])


def text_section(card: Scorecard) -> str:
    if card.table.empty:
        return ""
    lines = ["Trigger scorecard (compare/triggers.csv, triggers_by_year.csv):"]
    for r in card.table.to_dict("records"):
        s = pd.Series(r)
        lines.append(f"  {r['scenario']} / {r['policy']}: fires in {_cell(s, 'activation')} "
                     f"of soum-winters; hit rate {_cell(s, 'hit_rate')}; false alarms "
                     f"{_cell(s, 'false_alarm')}; basis risk {_cell(s, 'basis_risk')}.")
    lines.append("  " + note(card))
    return "\n".join(lines)
