"""The named streams give exactly the generators of numpy's SeedSequence recipe: a run
(or a replicate of a batch) draws the numbers any other tool seeded the documented way
would draw, whatever seed, step or key (model.streams mixes the seeds itself)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from model.streams import Streams, run_seed_sequence, stream_key

SEEDS = [0, 1, 2**31 - 1, 2**32 + 5, 2**100 + 17, run_seed_sequence(7, 3),
         np.random.SeedSequence(), np.random.SeedSequence([1, 2, 3, 4, 5, 6]),
         np.random.SeedSequence(9, pool_size=8), np.random.SeedSequence(3, spawn_key=(1, 2**33))]
STEPS = [0, 1, 119, 127, 128, 2**32 - 1, 2**32, 2**40 + 1]


def documented(streams: Streams, name: str, step: int, key: str = "") -> np.random.Generator:
    ss = streams.seed_sequence
    spawn = (*ss.spawn_key, stream_key(name), step) + ((stream_key(key),) if key else ())
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(ss.entropy, spawn_key=spawn, pool_size=ss.pool_size)))


@pytest.mark.parametrize("seed", SEEDS, ids=range(len(SEEDS)))
def test_generators_are_numpys_seed_sequence_generators(seed):
    streams = Streams(seed)
    for name in ("climate", "offtake"):
        for step in STEPS:
            for key in ("", "distress"):
                ours, theirs = streams.get(name, step, key), documented(streams, name, step, key)
                assert ours.bit_generator.state == theirs.bit_generator.state
                assert np.array_equal(ours.random(5), theirs.random(5))
                for n_words, dtype in ((3, np.uint32), (5, np.uint64)):
                    assert np.array_equal(ours.bit_generator.seed_seq.generate_state(n_words, dtype),
                                          theirs.bit_generator.seed_seq.generate_state(n_words, dtype))


def test_generators_spawn_and_pickle_like_numpys():
    streams = Streams(5)
    ours, theirs = streams.get("policy", 12, "lottery"), documented(streams, "policy", 12, "lottery")
    assert [g.random() for g in ours.spawn(3)] == [g.random() for g in theirs.spawn(3)]
    copy = pickle.loads(pickle.dumps(ours))
    assert copy.random() == ours.random()


def test_negative_step_is_refused():
    with pytest.raises(ValueError, match="non-negative"):
        Streams(1).get("climate", -1)
