"""Fit the per-aimag region files from the NSO tables and write the calibration report.

    python -m experiments.analysis.calibrate [--data DIR] [--aimag NAME ...] [--out DIR] [--report PATH]

Reads the NSO CSV tables (formats described in model/data/nso/README.md) from
``--data`` (default: ``model.region.default_data_dir()``), writes
``<out>/<aimag>.json`` (default out: model/data/regions) and regenerates the
calibration report (default: docs/CALIBRATION.md; ``<out>/CALIBRATION.md`` when
``--out`` is given). Output is deterministic: same inputs => byte-identical
JSON (sorted keys, floats rounded to 6 significant digits, sha256 of every
input file, no timestamps). Nothing here is specific to an aimag: any aimag
present in the NSO-format files can be calibrated; missing pieces fall back to
pooled or estimated values, recorded in the JSON's ``notes``.

This module is the command; the fitting is :mod:`experiments.analysis.calibrate_compute`,
the report :mod:`experiments.report.calibrate_render`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from experiments.analysis.calibrate_compute import (
    DEFAULT_AIMAGS,
    F_CLASS,
    F_MORT,
    F_POP,
    F_PRICE,
    F_SOUM,
    REQUIRED,
    DataError,
    Inputs,
    calibrate_aimag,
    dump_json,
)
from experiments.report.calibrate_render import write_report
from model.region import REGIONS_DIR, REPO_ROOT, default_data_dir, region_file_name


# ---------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.analysis.calibrate",
                                 description="Fit region files from NSO tables.")
    ap.add_argument("--data", type=Path, default=None,
                    help="directory with the NSO CSV tables (default: $HERDTRAP_NSO_DATA, "
                         "else ../shared/data/nso if present, else model/data/nso)")
    ap.add_argument("--aimag", nargs="+", action="extend", default=None, metavar="NAME",
                    help=f"aimag(s) to calibrate (default: {' '.join(DEFAULT_AIMAGS)})")
    ap.add_argument("--out", type=Path, default=None,
                    help="output directory for <aimag>.json (default: model/data/regions)")
    ap.add_argument("--report", type=Path, default=None,
                    help="calibration report path (default: docs/CALIBRATION.md, or "
                         "<out>/CALIBRATION.md when --out is given)")
    ap.add_argument("--no-report", action="store_true", help="write only the JSON files")
    args = ap.parse_args(argv)

    data_dir = args.data if args.data is not None else default_data_dir()
    aimags = args.aimag or DEFAULT_AIMAGS
    out_dir = args.out if args.out is not None else REGIONS_DIR
    report = args.report or (out_dir / "CALIBRATION.md" if args.out is not None
                             else REPO_ROOT / "docs" / "CALIBRATION.md")
    try:
        if not data_dir.is_dir():
            raise DataError(f"data directory not found: {data_dir}")
        missing = [f for f in REQUIRED if not (data_dir / f).is_file()]
        if missing:
            raise DataError(f"{data_dir} lacks required NSO table(s): {', '.join(missing)}")
        inp = Inputs(data_dir)
        mort, pop = inp.get(F_MORT), inp.get(F_POP)
        known = sorted(set(mort["Aimag"].astype(str)) & set(pop["Aimag"].astype(str)))
        for a in aimags:
            if not any(k.lower() == a.strip().lower() for k in known):
                raise DataError(f"aimag {a!r} not in {F_MORT} and {F_POP} of {data_dir}; "
                                f"available: {', '.join(known)}")
        blobs = [calibrate_aimag(inp, a) for a in aimags]
        # read the optional tables even if every aimag was complete, so hashes are stable
        for f in (F_SOUM, F_CLASS, F_PRICE):
            inp.get(f)
        for b in blobs:
            b["inputs_sha256"] = dict(sorted(inp.hashes.items()))
    except (DataError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        msg = str(e) if isinstance(e, DataError) else f"malformed NSO table: {e!r}"
        print(f"calibrate: {msg}", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    for b in blobs:
        (out_dir / region_file_name(b["aimag"])).write_text(dump_json(b), encoding="utf-8")
        print(f"wrote {out_dir / region_file_name(b['aimag'])}")
    if not args.no_report:
        write_report(blobs, out_dir, report, data_dir, inp.hashes)
        print(f"wrote {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
