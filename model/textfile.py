"""Reading a user's text file (scenario, sensitivity spec, NSO table) as UTF-8 with one
clear line for every way it can fail: a folder, a missing file, an unreadable file,
bytes that are not UTF-8. Each caller names its error class and what the file is."""

from __future__ import annotations

from pathlib import Path


def read_utf8(path: Path, *, error: type[Exception], what: str, folder_hint: str = "",
              expected: str = "UTF-8 text") -> str:
    """The text of ``path`` (a leading BOM removed), or ``error`` with one line.

    ``what`` names the file in messages ("scenario file", "spec file", "table");
    ``folder_hint`` is appended to the message for a folder; ``expected`` says what the
    file must be when it is not UTF-8 ("scenario files must be UTF-8 TOML").
    """
    if path.is_dir():
        raise error(f"{path}: is a folder, not a {what}{folder_hint}")
    if not path.exists():
        raise error(f"{path}: {what} not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at position "
                    f"{exc.start}); {expected}") from None
    return text.removeprefix("\ufeff")
