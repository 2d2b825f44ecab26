"""Property-based tests of the scenario and sensitivity-spec loaders (hypothesis).

Each example starts from a small valid file and breaks one thing: a value of the
wrong type, out of range, not finite, naming data that does not exist (aimags,
replay years, species, soums), a section of the wrong type, an unknown key, a bad
name, a missing or folder ``base``, or bytes that are not UTF-8 or not TOML. The
loader must raise its domain error (ScenarioError / UsageError) with one line, and
the command (`herdtrap run` / `herdtrap sensitivity`) must exit 2 with one line on
stderr and write nothing.

The examples that crashed or were accepted before the checks of issue 17 are kept
in tests/commands/corpus/bad_inputs/ and replayed by ``test_corpus_file_is_refused``.
Set HERDTRAP_RECORD_CORPUS=DIR to write every generated example that is *not*
refused into DIR (how that corpus was collected, on the code before the fix).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path

import pytest
from bad_inputs import BASELINE, SMALL, Case, check_refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import cli
from model.parameters import parameter_table

CORPUS = Path(__file__).resolve().parent / "corpus" / "bad_inputs"
RECORD = os.environ.get("HERDTRAP_RECORD_CORPUS")
SETTINGS = settings(max_examples=int(os.environ.get("HERDTRAP_PROPERTY_EXAMPLES", "120")),
                    deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


# ------------------------------------------------------------------ a small TOML writer


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(doc: dict) -> str:
    lines = [f"{json.dumps(k)} = {_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{json.dumps(k)}]")
            lines += [f"{json.dumps(str(kk))} = {_value(vv)}" for kk, vv in table.items()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ strategies

NUMBERS_BAD_TYPE = st.one_of(
    st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2),
    st.dates(), st.just({}), st.dictionaries(st.sampled_from(["a", "b"]), st.integers(),
                                             min_size=1, max_size=1))
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def bad_number(low: float | None, high: float | None, kind: str):
    """A value that is not allowed for a numeric parameter/lever with this range and type."""
    options = [NUMBERS_BAD_TYPE, NON_FINITE]
    if low is not None:
        options.append(st.floats(max_value=low, exclude_max=True, allow_nan=False,
                                 allow_infinity=False, min_value=-1e12)
                       .map(lambda x, k=kind: int(math.floor(x)) if k == "int" else x)
                       .filter(lambda x, lo=low: x < lo))
    if high is not None:
        options.append(st.floats(min_value=high, exclude_min=True, allow_nan=False,
                                 allow_infinity=False, max_value=1e12)
                       .map(lambda x, k=kind: int(math.ceil(x)) if k == "int" else x)
                       .filter(lambda x, hi=high: x > hi))
    if kind == "int":
        options.append(st.floats(min_value=-1e6, max_value=1e6).filter(
            lambda x: math.isfinite(x) and not x.is_integer()))
    return st.one_of(options)


def _bad_for(p):
    if p.type == "bool":
        return st.one_of(st.integers(), st.text(max_size=3), NON_FINITE)
    if p.type == "str":
        return st.one_of(st.integers(), st.booleans(), NON_FINITE, st.just({"x": 1}))
    return bad_number(p.low, p.high, p.type)


def _policy_levers():
    from model.policies import REGISTRY, _load_builtin

    _load_builtin()
    return [(name, key, lev) for name, cls in REGISTRY.items() for key, lev in cls.levers.items()]


PARAMS = [p for p in parameter_table().values() if p.type in ("int", "float", "bool")]
LEVERS = [x for x in _policy_levers() if x[2].type in ("int", "float", "bool")]
IDENT = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)


@st.composite
def bad_scenario(draw) -> dict | bytes:
    """A scenario document inheriting small.toml with exactly one thing wrong."""
    doc: dict = {"base": "small.toml", "name": "prop"}
    kind = draw(st.sampled_from([
        "parameter", "parameter", "lever", "lever", "run", "climate", "section", "name",
        "description", "unknown_key", "base", "aimags", "replay", "data_lever", "bytes",
    ]))
    if kind == "parameter":
        p = draw(st.sampled_from(PARAMS))
        doc["parameters"] = {p.name: draw(_bad_for(p))}
    elif kind == "lever":
        policy, key, lev = draw(st.sampled_from(LEVERS))
        doc["policies"] = {policy: {key: draw(_bad_for(lev))}}
    elif kind == "run":
        key = draw(st.sampled_from(["years", "start_year"]))
        low, high = (1, 200) if key == "years" else (1900, 2200)
        doc["run"] = {key: draw(bad_number(low, high, "int"))}
    elif kind == "climate":
        doc["climate"] = draw(st.one_of(
            st.fixed_dictionaries({"regime": st.one_of(
                st.text(max_size=8).filter(lambda s: s not in ("stochastic", "replay")),
                st.integers(), st.booleans())}),
            st.fixed_dictionaries({"replay_years": st.lists(st.integers(1992, 2024),
                                                            min_size=1, max_size=3)}),
            st.fixed_dictionaries({"data_dir": st.one_of(st.integers(), st.booleans(),
                                                         st.just(""), st.just([]))}),
            st.fixed_dictionaries({IDENT.filter(lambda k: k not in ("regime", "replay_years",
                                                                    "data_dir")): st.integers()}),
        ))
    elif kind == "section":
        section = draw(st.sampled_from(["run", "climate", "parameters", "policies"]))
        doc[section] = draw(st.one_of(st.integers(), st.text(max_size=5), st.booleans(),
                                      st.lists(st.integers(), max_size=2), NON_FINITE))
    elif kind == "name":
        doc["name"] = draw(st.one_of(
            st.integers(), st.booleans(), NON_FINITE, st.just(""), st.just("   "),
            st.lists(st.text(max_size=3), max_size=2),
            st.tuples(st.text(max_size=4), st.sampled_from(["\x00", "\n", "/", "\\", "\x1b"]),
                      st.text(max_size=4)).map("".join),
            st.text(min_size=101, max_size=120).filter(lambda s: s.strip() == s and s)))
    elif kind == "description":
        doc["description"] = draw(st.one_of(st.integers(), st.booleans(), NON_FINITE,
                                            st.lists(st.text(max_size=3), max_size=2)))
    elif kind == "unknown_key":
        key = draw(IDENT.filter(lambda k: k not in ("name", "description", "base", "run",
                                                     "climate", "parameters", "policies")))
        doc[key] = draw(st.one_of(st.integers(), st.text(max_size=3)))
    elif kind == "base":
        doc["base"] = draw(st.one_of(st.integers(), st.booleans(), st.just(""), st.just("."),
                                     st.just("sub"), st.just("missing.toml"), st.just("s.toml")))
    elif kind == "aimags":
        doc["run"] = {"aimags": draw(st.one_of(
            st.just([]), st.text(max_size=6),
            st.lists(st.integers(), min_size=1, max_size=2),
            st.lists(st.sampled_from(["Zavkhan", "zavkhan", "ZAVKHAN", "Khuvsgul"]),
                     min_size=2, max_size=4).filter(
                lambda xs: len({x.lower() for x in xs}) < len(xs)),
            st.lists(IDENT.filter(lambda s: s not in ("zavkhan", "khuvsgul")), min_size=1,
                     max_size=2)))}
    elif kind == "replay":
        years = draw(st.lists(st.one_of(st.integers(1000, 1991), st.integers(2025, 9999)),
                              min_size=1, max_size=3))
        doc["climate"] = {"regime": "replay", "replay_years": years}
    elif kind == "data_lever":
        doc["policies"] = draw(st.one_of(
            st.fixed_dictionaries({"insurance": st.fixed_dictionaries({"species": st.lists(
                IDENT.filter(lambda s: s not in ("sheep", "goat", "cattle", "horse", "camel")),
                min_size=1, max_size=2)})}),
            st.fixed_dictionaries({"shock_responsive_topup": st.fixed_dictionaries({
                "soums": st.from_regex(r"[A-Z][a-z]{2,8}x", fullmatch=True)})}),
            st.fixed_dictionaries({"child_money": st.fixed_dictionaries({
                "amount_by_year": st.from_regex(r"20[0-9]{2}[-=;][0-9]{1,3}", fullmatch=True)})}),
        ))
    else:  # bytes: not UTF-8, or not TOML
        text = to_toml(doc).encode()
        junk = draw(st.one_of(
            st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xe9", b"\x80abc"]),
            st.sampled_from([b"[run", b"= 3", b"name = ", b"x = [1,", b"[[run]]\nyears = 2"])))
        at = draw(st.integers(0, len(text)))
        return text[:at] + b"\n" + junk + b"\n" + text[at:]
    return doc


@st.composite
def bad_spec(draw) -> dict | bytes:
    """A sensitivity spec (small herdtrap model, Morris) with one thing wrong."""
    spec = {"method": "morris", "n": 2, "replicates": 1, "years": 1, "scenario": "small.toml",
            "parameters": ["herd.offtake_rate", "coping.max_distress_sale_share"],
            "bootstrap": 10}
    key = draw(st.sampled_from(["method", "n", "replicates", "seed", "root_seed", "bootstrap",
                                "conf_level", "years", "outcomes", "parameters", "ranges",
                                "fixed", "unknown", "scenario", "name", "trap_threshold",
                                "bytes"]))
    if key == "method":
        spec["method"] = draw(st.one_of(st.text(max_size=6).filter(
            lambda s: s not in ("sobol", "morris")), st.integers()))
    elif key == "n":
        spec["n"] = draw(st.one_of(st.integers(max_value=1), NUMBERS_BAD_TYPE, NON_FINITE))
    elif key == "replicates":
        spec["replicates"] = draw(bad_number(1, 1000, "int"))
    elif key in ("seed", "root_seed"):
        spec[key] = draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=2**63),
                                   NUMBERS_BAD_TYPE, NON_FINITE))
    elif key == "bootstrap":
        spec["bootstrap"] = draw(bad_number(10, 100_000, "int"))
    elif key == "conf_level":
        spec["conf_level"] = draw(st.one_of(
            NON_FINITE, st.floats(max_value=0.4999, min_value=-10),
            st.floats(min_value=1.0, max_value=10), st.text(max_size=3)))
    elif key == "years":
        spec["years"] = draw(bad_number(1, 200, "int"))
    elif key == "outcomes":
        spec["outcomes"] = draw(st.one_of(
            st.just([]), st.lists(IDENT.filter(lambda s: "final" not in s), min_size=1,
                                  max_size=2), st.integers(), st.lists(st.integers(), min_size=1,
                                                                       max_size=2)))
    elif key == "parameters":
        spec["parameters"] = draw(st.one_of(
            st.just([]), st.just(["herd.offtake_rate"]), st.text(max_size=4).filter(
                lambda s: s != "all"), st.lists(IDENT, min_size=2, max_size=3),
            st.just(["herd.offtake_rate", "herd.offtake_rate"]), st.integers()))
    elif key == "ranges":
        lo, hi = draw(st.sampled_from([(math.nan, 0.16), (0.17, 0.14), (0.0, 0.16), (0.14, 9.0),
                                       (0.15, math.inf)]))
        spec["ranges"] = draw(st.one_of(
            st.just({"herd.offtake_rate": [lo, hi]}),
            st.just({"herd.offtake_rate": [0.15]}), st.just({"herd.offtake_rate": "x"}),
            st.just({"population.households": [100, 200]})))
    elif key == "fixed":
        p = draw(st.sampled_from(PARAMS))
        spec["fixed"] = draw(st.one_of(st.fixed_dictionaries({p.name: _bad_for(p)}),
                                       st.just({"no.such_parameter": 1}), st.integers()))
    elif key == "unknown":
        spec[draw(IDENT.filter(lambda k: k not in {
            "name", "description", "model", "method", "n", "second_order", "num_levels",
            "replicates", "root_seed", "seed", "bootstrap", "conf_level", "scenario", "years",
            "outcomes", "policy_scenario", "baseline_scenario", "parameters", "ranges", "fixed",
            "trap_threshold"}))] = 1
    elif key == "scenario":
        spec["scenario"] = draw(st.one_of(st.just("missing.toml"), st.just("sub"),
                                          st.integers(), st.just("s_bad.toml")))
    elif key == "name":
        spec["name"] = draw(st.one_of(st.integers(), st.booleans(), st.lists(st.integers(),
                                                                             max_size=1)))
    elif key == "trap_threshold":
        spec["outcomes"] = ["trap_share_final"]
        spec["trap_threshold"] = draw(st.one_of(NON_FINITE, st.floats(max_value=0, min_value=-9),
                                                st.floats(min_value=1000, max_value=1e6),
                                                st.text(max_size=2)))
    else:
        text = to_toml(spec).encode()
        junk = draw(st.sampled_from([b"\xff", b"\xe9t\xe9", b"[ranges", b"n = ", b"\x80"]))
        at = draw(st.integers(0, len(text)))
        return text[:at] + b"\n" + junk + b"\n" + text[at:]
    return spec


# ------------------------------------------------------------------ the properties

#: files every example has beside it: the small base, a folder, a broken scenario
SUPPORT = {"small.toml": SMALL, "sub/x.txt": "x",
           "s_bad.toml": 'base = "small.toml"\n[run]\nyears = 0\n'}


def _content(doc: dict | bytes) -> str | bytes:
    return doc if isinstance(doc, bytes) else to_toml(doc)


def _refused_or_record(case: Case, tmp: Path, capsys, prefix: str) -> None:
    try:
        check_refused(case, tmp, capsys)
    except Exception:  # an assertion, or (before the fix) the crash itself
        if not RECORD:
            raise
        name = case.argv[1].split("/")[-1]
        content = (tmp / name).read_bytes()
        import hashlib

        out = Path(RECORD) / f"{prefix}_{hashlib.sha1(content).hexdigest()[:10]}.toml"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)


@SETTINGS
@given(doc=bad_scenario())
def test_a_broken_scenario_is_refused_with_one_line(doc, tmp_path_factory, capsys):
    tmp = tmp_path_factory.mktemp("prop")
    case = Case("prop", ["run", "TMP/s.toml", "--out", "TMP/out"],
                {**SUPPORT, "s.toml": _content(doc)})
    _refused_or_record(case, tmp, capsys, "scenario")


@SETTINGS
@given(spec=bad_spec())
def test_a_broken_spec_is_refused_with_one_line(spec, tmp_path_factory, capsys):
    tmp = tmp_path_factory.mktemp("prop")
    case = Case("prop", ["sensitivity", "TMP/spec.toml", "--backend", "sequential",
                         "--no-progress", "--out", "TMP/out"],
                {**SUPPORT, "spec.toml": _content(spec)})
    _refused_or_record(case, tmp, capsys, "spec")


def test_the_loaders_raise_their_domain_errors(tmp_path):
    """Library code raises ScenarioError / UsageError (ValueError or Exception subclasses);
    only the command line turns them into exit code 2."""
    from experiments.analysis.sensitivity_compute import load_spec
    from model.scenario import ScenarioError, load_scenario

    (tmp_path / "s.toml").write_text('name = 5\n')
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "s.toml")
    assert isinstance(exc.value, ValueError) and "\n" not in str(exc.value)
    (tmp_path / "spec.toml").write_bytes(b'method = "\xff"\n')
    with pytest.raises(cli.UsageError):
        load_spec(tmp_path / "spec.toml")


CORPUS_FILES = sorted(CORPUS.glob("*.toml"))


def test_the_corpus_is_there():
    assert len(CORPUS_FILES) >= 20


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.stem for p in CORPUS_FILES])
def test_corpus_file_is_refused(path, tmp_path, capsys):
    content = path.read_bytes()
    if path.stem.startswith("spec"):
        case = Case(path.stem, ["sensitivity", "TMP/spec.toml", "--backend", "sequential",
                                "--no-progress", "--out", "TMP/out"],
                    {**SUPPORT, "spec.toml": content})
    else:
        case = Case(path.stem, ["run", "TMP/s.toml", "--out", "TMP/out"],
                    {**SUPPORT, "s.toml": content})
    check_refused(case, tmp_path, capsys)


def test_the_baseline_placeholder_is_a_real_file():
    assert Path(BASELINE).is_file()
