"""argparse types of the commands' flags.

Checked by argparse while it parses, so a bad flag is refused before anything runs or
is written (argparse prefixes the message with "argument --flag: "). The commands'
``add_arguments`` use them; the command line (``experiments/cli.py``) re-exports them.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def int_range(low: int, high: int | None = None, *, also: tuple[int, ...] = (),
              label: str | None = None):
    """An argparse type: a whole number in [low, high] (or one of ``also``); ``label``
    shows the range in messages."""
    def parse(text: str) -> int:
        value = _parse_int(text)
        if value in also or (value >= low and (high is None or value <= high)):
            return value
        allowed = label or (f"[{low}, {high}]" if high is not None else f">= {low}")
        extra = f" or {', '.join(map(str, also))}" if also else ""
        raise argparse.ArgumentTypeError(f"{value} is outside the allowed range {allowed}{extra}")
    parse.__name__ = "whole number"
    return parse


#: seeds: numpy's SeedSequence takes non-negative integers; 2**63 keeps them int64
SEED_MAX = 2**63 - 1
seed = int_range(0, SEED_MAX, label="[0, 2**63 - 1]")


def float_range(low: float, high: float, *, low_open: bool = False, high_open: bool = False):
    """An argparse type: a finite number in the interval (open or closed at each end)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        ok = (math.isfinite(value)
              and (value > low if low_open else value >= low)
              and (value < high if high_open else value <= high))
        if not ok:
            interval = (f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}")
            raise argparse.ArgumentTypeError(f"{text} is outside the allowed range {interval} "
                                             "(a finite number)")
        return value
    parse.__name__ = "number"
    return parse


def finite(text: str) -> float:
    """An argparse type: any finite number (not nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not allowed; give a finite number")
    return value


def out_folder(text: str) -> Path:
    """An argparse type: a folder to write into. It may not exist yet, but it must not be
    a file, and nothing on its path may be a file (checked before anything is written)."""
    if not text.strip() or "\x00" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder name")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file, not a folder")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"{path} is under {parent}, which is a file")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise argparse.ArgumentTypeError(f"{path}: cannot write into {parent}")
            break
    return path


def existing_folder(text: str) -> Path:
    """An argparse type: a folder that exists."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{path}: no such folder")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file, not a folder")
    return path


#: address schemes of Dask's communication layer (distributed.comm)
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def scheduler_address(text: str) -> str:
    """An argparse type: a Dask scheduler address, SCHEME://HOST:PORT or HOST:PORT."""
    allowed = "allowed: tcp://HOST:PORT (or tls://, ws://, wss://, ucx://), or HOST:PORT"
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if scheme not in DASK_SCHEMES:
        raise argparse.ArgumentTypeError(f"{text!r}: unknown scheme {scheme!r}; {allowed}")
    if scheme == "inproc":
        return text
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")
    if (not colon or not host or any(c.isspace() or c in "/?#@" for c in host)
            or not port.isdigit() or not 1 <= int(port) <= 65535):
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address; {allowed} "
                                         "with PORT in 1-65535")
    return text


