"""Named random streams for common random numbers.

Every run gets one ``numpy.random.SeedSequence``. A draw is taken from the
generator of ``(stream name, step)``, whose seed depends only on the run's
seed sequence, a stable hash of the name and the step — never on how many
numbers other processes drew before. Processes draw for every household slot
(exited households included), so a policy that changes what one household
does never shifts the numbers another household receives. This is the
Starsim recipe (Klein, Abeysuriya, Stuart & Kerr 2024) on numpy generators.
"""

from __future__ import annotations

import zlib

import numpy as np

#: The streams the model uses, one per kind of decision or event.
STREAM_NAMES = (
    "population",  # initial households (t = 0)
    "climate",  # winter severity, soum noise, pre-winter signal
    "mortality",  # household winter losses
    "births",  # rounding of births
    "offtake",  # rounding of sales and slaughter
    "purchases",  # rounding of animals bought
    "behaviour",  # exits, take-up decisions
    "policy",  # targeting errors, lotteries
    "demography",  # members: deaths, births, leaving, new households (one uniform per seat)
)


def stream_key(name: str) -> int:
    """A stable 31-bit integer for a stream name (crc32, not Python's salted hash)."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


#: stream_key of the names and keys used so far (a draw names its stream every step)
_KEYS: dict[str, int] = {}


def _key(name: str) -> int:
    k = _KEYS.get(name)
    if k is None:
        k = _KEYS[name] = stream_key(name)
    return k


class _SeedSequence(np.random.SeedSequence):
    """numpy's SeedSequence without the ``np.errstate`` wrapper around ``generate_state``
    (its arithmetic is on C integers: the wrapper only costs time). Same states."""

    generate_state = getattr(np.random.SeedSequence.generate_state, "__wrapped__",
                             np.random.SeedSequence.generate_state)


def _entropy_words(entropy):
    """An int entropy as SeedSequence's uint32 words (anything else unchanged)."""
    if isinstance(entropy, int | np.integer):
        from numpy.random.bit_generator import _coerce_to_uint32_array
        return _coerce_to_uint32_array(entropy)
    return entropy


def as_seed_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def run_seed_sequence(root_seed: int, replicate: int) -> np.random.SeedSequence:
    """The seed sequence of replicate ``replicate`` of a batch with ``root_seed``.

    The same (root seed, replicate) gives every scenario the same weather and luck.
    """
    return np.random.SeedSequence(int(root_seed), spawn_key=(int(replicate),))


class Streams:
    """Generators keyed by (stream name, step)."""

    def __init__(self, seed: int | np.random.SeedSequence | None):
        self.seed_sequence = as_seed_sequence(seed)
        # the run's entropy as the uint32 words SeedSequence makes of it (same pool, less work)
        self._entropy = _entropy_words(self.seed_sequence.entropy)
        self._spawn_key = tuple(self.seed_sequence.spawn_key)

    def get(self, name: str, step: int, key: str = "") -> np.random.Generator:
        """A fresh generator for stream ``name`` at ``step`` (same inputs ⇒ same numbers).

        ``key`` separates several independent draws of one stream in one step
        (e.g. "slaughter" and "planned" sales in autumn).
        """
        spawn = (*self._spawn_key, _key(name), int(step))
        if key:
            spawn = (*spawn, _key(key))
        ss = _SeedSequence(entropy=self._entropy, spawn_key=spawn)
        return np.random.Generator(np.random.PCG64(ss))

    def python_seed(self) -> int:
        """A seed for Mesa's stdlib ``model.random`` derived from the same sequence."""
        return int(self.get("mesa", 0).integers(2**31 - 1))
