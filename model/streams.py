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


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx): the pool is mixed and
# read out with 32-bit multiply-xorshift hashes.
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words(n: int) -> list[int]:
    """A non-negative int as SeedSequence's little-endian uint32 words (0 is one word)."""
    if n < 0:
        raise ValueError(f"expected a non-negative integer, got {n}")
    out = [n & _M32]
    n >>= 32
    while n:
        out.append(n & _M32)
        n >>= 32
    return out


#: Steps whose seeds are mixed together (a run of 30 years has 120 steps).
_BLOCK = 128


def _hash_consts(h: int, count: int, mult: int) -> np.ndarray:
    """The hash constants of ``count`` successive hashes starting at constant ``h``
    (``count + 1`` values: a hash xors with one constant and multiplies by the next)."""
    out = [h]
    for _ in range(count):
        h = (h * mult) & _M32
        out.append(h)
    return np.array(out, dtype=np.uint32)[:, None]


class _Pool:
    """numpy's ``SeedSequence`` entropy pool, mixed word by word, for many seeds at once.

    A SeedSequence hashes its entropy words (the run's entropy padded to the pool size,
    then the spawn key's words) into its pool in order, and the hash constant moves on
    with every hash whatever the values. So the pool after a prefix of the words can be
    kept and the rest mixed in later, and seeds that differ only in their last words
    can be mixed side by side: ``pool`` is (pool size, lanes), one column per seed, and
    a word is a uint32 array with one entry per lane (or one for all). After the first
    pool-size words, a word is hashed with each pool word's own constant and mixed into
    it, so the pool words are updated together. The arithmetic is numpy's uint32
    (wrapping like the C code), so the pools and the generator states are numpy's
    (tests/model/test_streams.py checks them).
    """

    __slots__ = ("pool", "hash_const")

    def __init__(self, pool: np.ndarray, hash_const: int):
        self.pool = pool  # (pool_size, lanes) uint32
        self.hash_const = hash_const

    @classmethod
    def start(cls, run_words: list[int], pool_size: int) -> _Pool:
        """The pool (one lane) after the run's entropy words, padded with zeros to the
        pool size as SeedSequence does when a spawn key follows (in Python integers:
        the pool words are mixed into each other one after the other)."""
        words = list(run_words) + [0] * max(pool_size - len(run_words), 0)
        h = _INIT_A

        def hashmix(value: int) -> int:
            nonlocal h
            value ^= h
            h = (h * _MULT_A) & _M32
            value = (value * h) & _M32
            return value ^ (value >> 16)

        pool = [hashmix(w) for w in words[:pool_size]]  # the first words fill the pool ...
        for i_src in range(pool_size):  # ... and are mixed into each other
            for i_dst in range(pool_size):
                if i_src != i_dst:
                    x = (_MIX_L * pool[i_dst] - _MIX_R * hashmix(pool[i_src])) & _M32
                    pool[i_dst] = x ^ (x >> 16)
        start = cls(np.array(pool, dtype=np.uint32)[:, None], h)
        return start.mixed([np.array([w], dtype=np.uint32) for w in words[pool_size:]])

    def mixed(self, words: list[np.ndarray]) -> _Pool:
        """The pool after the further entropy words ``words``."""
        pool, h = self.pool, self.hash_const
        for w in words:
            c = _hash_consts(h, pool.shape[0], _MULT_A)
            h = int(c[-1, 0])
            v = (w ^ c[:-1]) * c[1:]
            v ^= v >> np.uint32(16)
            r = np.uint32(_MIX_L) * pool - np.uint32(_MIX_R) * v
            pool = r ^ (r >> np.uint32(16))
        return _Pool(pool, h)

    def generate_state(self, n_words: int) -> np.ndarray:
        """``SeedSequence.generate_state(n_words, np.uint32)`` of each lane's pool:
        (lanes, n_words) uint32."""
        c = _hash_consts(_INIT_B, n_words, _MULT_B)
        v = (self.pool[np.arange(n_words) % self.pool.shape[0]] ^ c[:-1]) * c[1:]
        v ^= v >> np.uint32(16)
        return np.ascontiguousarray(v.T)


def _as_dtype(state32: np.ndarray, dtype) -> np.ndarray:
    """uint32 words as SeedSequence returns them for ``dtype`` (uint64: little-endian
    pairs, whatever the machine's byte order)."""
    out_dtype = np.dtype(dtype)
    if out_dtype == np.dtype(np.uint32):
        return state32
    if out_dtype == np.dtype(np.uint64):
        return state32.astype("<u4").view("<u8").astype(np.uint64)
    raise ValueError("only support uint32 or uint64")


class _StepSeed(np.random.bit_generator.ISpawnableSeedSequence):
    """The seed of one (stream, step, key) generator, handed to ``PCG64``: its mixed pool
    and the four uint64 words PCG64 asks for, already generated. ``entropy`` and
    ``spawn_key`` name the equivalent ``np.random.SeedSequence``, which ``spawn`` uses."""

    def __init__(self, pool: np.ndarray, pcg_words: np.ndarray, entropy,
                 spawn_key: tuple[int, ...], pool_size: int):
        self._pool = pool  # (pool_size,) uint32
        self._pcg_words = pcg_words  # generate_state(4, np.uint64)
        self.entropy = entropy
        self.spawn_key = spawn_key
        self.pool_size = pool_size
        self._seed_sequence: np.random.SeedSequence | None = None

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words == 4 and dtype is np.uint64:  # (what PCG64 asks for)
            return self._pcg_words
        pool = _Pool(self._pool[:, None], 0)
        n32 = n_words * (2 if np.dtype(dtype) == np.dtype(np.uint64) else 1)
        return _as_dtype(pool.generate_state(n32)[0], dtype)

    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:
        if self._seed_sequence is None:
            self._seed_sequence = np.random.SeedSequence(
                self.entropy, spawn_key=self.spawn_key, pool_size=self.pool_size)
        return self._seed_sequence.spawn(n_children)

    def __repr__(self) -> str:
        return f"_StepSeed(entropy={self.entropy!r}, spawn_key={self.spawn_key!r})"


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
        self.seed_sequence = ss = as_seed_sequence(seed)
        self._spawn_key = tuple(ss.spawn_key)
        from numpy.random.bit_generator import _coerce_to_uint32_array
        run_words = _coerce_to_uint32_array(ss.entropy).tolist()
        spawn_words = [np.array([w], dtype=np.uint32)
                       for w in _coerce_to_uint32_array(self._spawn_key).tolist()]
        #: the pool after the run's entropy and spawn key (the words every seed shares)
        self._run = _Pool.start(run_words, ss.pool_size).mixed(spawn_words)
        #: name -> the pool after the stream's name too
        self._named: dict[str, _Pool] = {}
        #: (name, key, block) -> (pools, PCG64 words) of the block's steps
        self._blocks: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]] = {}

    def get(self, name: str, step: int, key: str = "") -> np.random.Generator:
        """A fresh generator for stream ``name`` at ``step`` (same inputs ⇒ same numbers).

        ``key`` separates several independent draws of one stream in one step
        (e.g. "slaughter" and "planned" sales in autumn).

        The generator is ``PCG64(SeedSequence(entropy, spawn_key=(*spawn key of the run,
        stream_key(name), step[, stream_key(key)])))``. The seeds of a block of
        ``_BLOCK`` steps of a (name, key) are mixed at once (:class:`_Pool`), as a run
        asks for the same draws step after step.
        """
        step = int(step)
        spawn = (*self._spawn_key, _key(name), step) + ((_key(key),) if key else ())
        if 0 <= step <= _M32:
            block, i = divmod(step, _BLOCK)
            pools, pcg = self._blocks.get((name, key, block)) or self._block(name, key, block)
            pool, pcg_words = pools[i], pcg[i]
        else:  # (a step beyond 32 bits: this seed alone)
            tail = [*_words(step), *spawn[len(self._spawn_key) + 2:]]
            mixed = self._name_pool(name).mixed([np.array([w], dtype=np.uint32) for w in tail])
            pool = mixed.pool[:, 0]
            pcg_words = _as_dtype(mixed.generate_state(8)[0], np.uint64)
        ss = self.seed_sequence
        seed = _StepSeed(pool, pcg_words, ss.entropy, spawn, ss.pool_size)
        return np.random.Generator(np.random.PCG64(seed))

    def _name_pool(self, name: str) -> _Pool:
        named = self._named.get(name)
        if named is None:
            named = self._named[name] = self._run.mixed([np.array([_key(name)], dtype=np.uint32)])
        return named

    def _block(self, name: str, key: str, block: int) -> tuple[np.ndarray, np.ndarray]:
        """The pools and PCG64 words of the steps of ``block`` (each step one word)."""
        words = [np.arange(block * _BLOCK, (block + 1) * _BLOCK, dtype=np.uint32)]
        if key:
            words.append(np.array([_key(key)], dtype=np.uint32))
        mixed = self._name_pool(name).mixed(words)
        pools = np.ascontiguousarray(mixed.pool.T)  # (steps, pool size)
        pcg = _as_dtype(mixed.generate_state(8), np.uint64)  # (steps, 4)
        pools.flags.writeable = pcg.flags.writeable = False  # (handed out as rows)
        self._blocks[name, key, block] = pools, pcg
        return pools, pcg

    def python_seed(self) -> int:
        """A seed for Mesa's stdlib ``model.random`` derived from the same sequence."""
        return int(self.get("mesa", 0).integers(2**31 - 1))
