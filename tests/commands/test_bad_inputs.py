"""A corpus of malformed inputs across the commands: each one gets exit code 2, one
line on stderr naming the file/key or flag, no traceback, and nothing written.

The harness is tests/commands/bad_inputs.py. Scenario cases inherit a small valid base
(``small.toml``: 60 households, 2 years) so that an input wrongly accepted runs a
short model instead of the full baseline (and still fails the test: exit 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_inputs import SMALL, Case, check_refused, run_subprocess
from small_scenarios import write_scenarios

from experiments.run.batch import load_scenarios, run_batch


def scen(id: str, body: str | bytes, expect: str | None = None, *, cmd: str = "run",
         extra: list[str] | None = None, files: dict | None = None) -> Case:
    """A scenario case: ``s.toml`` inherits small.toml unless ``body`` is bytes or
    starts with ``!`` (then it is the whole file)."""
    if isinstance(body, str):
        body = body[1:] if body.startswith("!") else f'base = "small.toml"\n{body}'
    argv = {"run": ["run", "TMP/s.toml", "--out", "TMP/out"],
            "batch": ["batch", "TMP/s.toml", "-r", "1", "--backend", "sequential",
                      "--no-progress", "--out", "TMP/out"]}[cmd]
    return Case(id, argv + (extra or []), {"small.toml": SMALL, "s.toml": body, **(files or {})},
                expect)


def nso(id: str, edit, expect: str | None = None, extra: list[str] | None = None) -> Case:
    """A hindcast case on a copy of the NSO tables changed by ``edit(tmp)``."""
    return Case(id, ["hindcast", "--data", "NSO", "--aimag", "Zavkhan", "--start", "2015",
                     "--end", "2018", "--replicates", "1", "--households", "50",
                     "--out", "TMP/out", "--no-png", *(extra or [])], setup=edit, expect=expect)


def _rewrite(name: str, old: str, new: str, count: int = 1):
    def edit(tmp: Path) -> None:
        p = tmp / "nso" / name
        text = p.read_text(encoding="utf-8")
        assert old in text, (name, old)
        p.write_text(text.replace(old, new, count), encoding="utf-8")
    return edit


def _replace_bytes(name: str, data: bytes):
    def edit(tmp: Path) -> None:
        (tmp / "nso" / name).write_bytes(data)
    return edit


def _latin1(name: str):
    def edit(tmp: Path) -> None:
        p = tmp / "nso" / name
        p.write_bytes(p.read_bytes().replace(b"Zavkhan", "Zavkhán".encode("latin-1")))
    return edit


def _corrupt(rel: str, data: bytes = b"PAR1 this is not parquet"):
    def edit(tmp: Path) -> None:
        (tmp / rel).write_bytes(data)
    return edit


def _manifest(edit_fn):
    def edit(tmp: Path) -> None:
        p = tmp / "batch" / "manifest.json"
        m = json.loads(p.read_text())
        p.write_text(json.dumps(edit_fn(m)))
    return edit


def _parquet_without(rel: str, column: str):
    def edit(tmp: Path) -> None:
        import pandas as pd

        p = tmp / rel
        pd.read_parquet(p).drop(columns=[column]).to_parquet(p)
    return edit


TOPUP = "[policies.shock_responsive_topup]\n"
CM = "[policies.child_money]\n"

CASES: list[Case] = [
    # ------------------------------------------------------------ scenario: structure
    scen("climate_is_string", 'climate = "replay"\n', "climate"),
    scen("policies_is_list", 'policies = ["child_money"]\n', "policies"),
    scen("policy_table_is_number", "[policies]\nchild_money = 3\n", "policies.child_money"),
    scen("run_is_array", "run = [1, 2]\n", "run"),
    scen("parameters_is_string", 'parameters = "herd.offtake_rate=0.1"\n', "parameters"),
    scen("parameter_is_inline_table", "[parameters]\nherd.offtake_rate = {}\n",
         "herd.offtake_rate"),
    scen("parameter_is_list", "[parameters]\nherd.offtake_rate = [0.15]\n", "herd.offtake_rate"),
    scen("parameter_is_date", "[parameters]\nherd.offtake_rate = 2020-01-01\n",
         "herd.offtake_rate"),
    scen("unknown_top_key", "seed = 4\n", "seed"),
    scen("aimags_is_string", '[run]\naimags = "Zavkhan"\n', "run.aimags"),
    scen("aimags_empty", "[run]\naimags = []\n", "run.aimags"),
    scen("aimags_twice_other_case", '[run]\naimags = ["Zavkhan", "zavkhan"]\n', "run.aimags"),
    scen("aimag_is_number", "[run]\naimags = [18]\n", "run.aimags"),
    scen("years_is_float", "[run]\nyears = 2.5\n", "run.years"),
    scen("years_is_inf", "[run]\nyears = inf\n", "run.years"),
    scen("years_huge", "[run]\nyears = 99999999999999999999\n", "run.years"),
    scen("start_year_negative", "[run]\nstart_year = -2020\n", "run.start_year"),
    scen("start_year_string", '[run]\nstart_year = "2020"\n', "run.start_year"),
    # ------------------------------------------------------------ scenario: values
    scen("households_inf", '[parameters]\n"population.households" = inf\n',
         "population.households"),
    scen("households_minus_nan", '[parameters]\n"population.households" = -nan\n',
         "population.households"),
    scen("households_fraction", '[parameters]\n"population.households" = 100.5\n',
         "population.households"),
    scen("float_parameter_nan", "[parameters]\nherd.offtake_rate = nan\n", "herd.offtake_rate"),
    scen("bool_parameter_as_number", "[parameters]\nherd.offtake_rate = true\n",
         "herd.offtake_rate"),
    scen("parameter_group_is_number", "[parameters]\nherd = 3\n", "herd"),
    # ------------------------------------------------------------ scenario: name etc.
    scen("name_is_number", "name = 7\n", "name"),
    scen("name_is_table", "[name]\nx = 1\n", "name"),
    scen("name_blank", 'name = "   "\n', "name"),
    scen("name_with_newline", 'name = "a\\nb"\n', "name"),
    scen("name_with_slash", 'name = "../escape"\n', "name"),
    scen("description_is_bool", "description = false\n", "description"),
    scen("description_is_list", 'description = ["a"]\n', "description"),
    # ------------------------------------------------------------ scenario: files
    scen("latin1_file", 'base = "small.toml"\nname = "caf\xe9"\n'.encode("latin-1"), "UTF-8"),
    scen("utf16_file", '\ufeffbase = "small.toml"\n'.encode("utf-16"), "UTF-8"),
    scen("binary_file", bytes(range(256)), "s.toml"),
    scen("base_is_number", "!base = 3\n", "base"),
    scen("base_empty_string", '!base = ""\n', "base"),
    scen("base_is_dot", '!base = "."\n', "base"),
    scen("base_missing_file", '!base = "nowhere.toml"\n', "nowhere.toml"),
    scen("base_not_utf8", '!base = "b.toml"\n', "b.toml", files={"b.toml": b"name = '\xff'\n"}),
    scen("base_is_itself", '!base = "s.toml"\n', "circular"),
    Case("scenario_is_directory", ["run", "TMP/dir", "--out", "TMP/out"],
         {"dir/x.txt": "x"}, "dir"),
    Case("scenario_toml_directory", ["run", "TMP/d.toml", "--out", "TMP/out"],
         {"d.toml/x.txt": "x"}, "d.toml"),
    # ------------------------------------------------------------ scenario: climate
    scen("replay_year_without_data", '[climate]\nregime = "replay"\nreplay_years = [1850]\n',
         "1850"),
    scen("replay_year_future", '[climate]\nregime = "replay"\nreplay_years = [2010, 2190]\n',
         "2190"),
    scen("replay_year_float", '[climate]\nregime = "replay"\nreplay_years = [2010.0]\n',
         "climate.replay_years"),
    scen("replay_years_string", '[climate]\nregime = "replay"\nreplay_years = "2010"\n',
         "climate.replay_years"),
    scen("data_dir_number", "[climate]\ndata_dir = 5\n", "climate.data_dir"),
    scen("replay_data_dir_missing",
         '[climate]\nregime = "replay"\nreplay_years = [2010]\ndata_dir = "TMP/none"\n',
         "data_dir"),
    scen("regime_number", "[climate]\nregime = 1\n", "climate.regime"),
    # ------------------------------------------------------------ scenario: policy levers
    scen("int_lever_inf", CM + "start_year = inf\n", "start_year"),
    scen("int_lever_nan", CM + "end_year = nan\n", "end_year"),
    scen("float_lever_minus_inf", CM + "amount = -inf\n", "amount"),
    scen("choice_lever_number", CM + "targeting = 1\n", "targeting"),
    scen("schedule_no_colon", CM + 'amount_by_year = "2020-100"\n', "amount_by_year", cmd="batch"),
    scen("schedule_amount_text", CM + 'amount_by_year = "2020:lots"\n', "amount_by_year", cmd="batch"),
    scen("schedule_negative", CM + 'amount_by_year = "2020:-5"\n', "amount_by_year"),
    scen("insurance_unknown_species", '[policies.insurance]\nspecies = ["sheep", "yak"]\n',
         "yak", cmd="batch"),
    scen("insurance_species_numbers", "[policies.insurance]\nspecies = [1, 2]\n", "species"),
    scen("topup_unknown_soum", TOPUP + 'soums = "Atlantis"\n', "Atlantis", cmd="batch"),
    scen("topup_soum_of_other_aimag",
         '[run]\naimags = ["Zavkhan"]\n' + TOPUP + 'soums = "Khuvsgul:Murun"\n', "Khuvsgul", cmd="batch"),
    scen("topup_unknown_soum_code", TOPUP + 'soums = "99999"\n', "99999", cmd="batch"),
    scen("topup_years_text", TOPUP + 'years = "twenty"\n', "years"),
    scen("unknown_policy", "[policies.basic_income]\namount = 1\n", "basic_income"),
    scen("unknown_lever", CM + "amount_usd = 1\n", "amount_usd"),
    # ------------------------------------------------------------ batch
    scen("batch_scenario_name_number", "name = 5\n", "name", cmd="batch"),
    Case("batch_names_int_and_str",
         ["batch", "TMP/a.toml", "TMP/b.toml", "-r", "1", "--out", "TMP/out"],
         {"small.toml": SMALL, "a.toml": 'base = "small.toml"\nname = 5\n',
          "b.toml": 'base = "small.toml"\nname = "5"\n'}, "name"),
    Case("batch_same_file_twice", ["batch", "TMP/a.toml", "TMP/a.toml", "-r", "1",
                                   "--out", "TMP/out"], {"small.toml": SMALL,
                                                         "a.toml": 'base = "small.toml"\n'}, "a"),
    scen("batch_scheduler_no_port", "", "--scheduler", cmd="batch",
         extra=["--backend", "dask", "--scheduler", "tcp://"]),
    scen("batch_scheduler_bad_port", "", "--scheduler", cmd="batch",
         extra=["--backend", "dask", "--scheduler", "tcp://127.0.0.1:99999"]),
    scen("batch_scheduler_scheme", "", "--scheduler", cmd="batch",
         extra=["--backend", "dask", "--scheduler", "http://127.0.0.1:8786"]),
    scen("batch_scheduler_spaces", "", "--scheduler", cmd="batch",
         extra=["--backend", "dask", "--scheduler", "my scheduler"]),
    scen("batch_scheduler_without_dask", "", "--scheduler", cmd="batch",
         extra=["--scheduler", "tcp://127.0.0.1:8786"]),
    scen("batch_jobs_zero", "", "--jobs", cmd="batch", extra=["--jobs", "0"]),
    scen("batch_panel_nan", "", "--household-panel", cmd="batch",
         extra=["--household-panel", "nan"]),
    scen("batch_panel_negative", "", "--household-panel", cmd="batch",
         extra=["--household-panel", "-0.5"]),
    scen("batch_seed_negative", "", "--seed", cmd="batch", extra=["--seed", "-3"]),
    scen("batch_seed_text", "", "--seed", cmd="batch", extra=["--seed", "lucky"]),
    scen("batch_flush_zero", "", "--flush-every", cmd="batch", extra=["--flush-every", "0"]),
    scen("batch_years_zero", "", "--years", cmd="batch", extra=["--years", "0"]),
    scen("batch_unknown_flag", "", "--fast", cmd="batch", extra=["--fast"]),
    scen("batch_out_under_file", "", "--out", cmd="batch",
         extra=["--out", "TMP/plain.txt/out"], files={"plain.txt": "x"}),
    scen("batch_out_is_file", "", "--out", cmd="batch", extra=["--out", "TMP/plain.txt"],
         files={"plain.txt": "x"}),
    # ------------------------------------------------------------ run flags
    scen("run_seed_huge", "", "--seed", extra=["--seed", str(2**70)]),
    scen("run_years_negative", "", "--years", extra=["--years", "-4"]),
    scen("run_years_too_many", "", "--years", extra=["--years", "5000"]),
    scen("run_out_under_file", "", "--out", extra=["--out", "TMP/plain.txt/sub"],
         files={"plain.txt": "x"}),
    scen("run_out_is_file", "", "--out", extra=["--out", "TMP/plain.txt"],
         files={"plain.txt": "x"}),
    # ------------------------------------------------------------ compare
    Case("compare_manifest_not_json", ["compare", "BATCH"], {"batch/manifest.json": "{oops"},
         "manifest.json"),
    Case("compare_manifest_is_list", ["compare", "BATCH"], {"batch/manifest.json": "[1, 2]"},
         "manifest.json"),
    Case("compare_manifest_latin1", ["compare", "BATCH"],
         {"batch/manifest.json": b'{"kind": "batch", "x": "\xe9"}'}, "manifest.json"),
    Case("compare_manifest_scenarios_list", ["compare", "BATCH"],
         setup=_manifest(lambda m: {**m, "scenarios": ["a", "b"]}), expect="manifest.json"),
    Case("compare_runs_corrupt", ["compare", "BATCH"], setup=_corrupt("batch/runs.parquet"),
         expect="runs.parquet"),
    Case("compare_runs_empty_file", ["compare", "BATCH"],
         setup=_corrupt("batch/runs.parquet", b""), expect="runs.parquet"),
    Case("compare_timeseries_corrupt", ["compare", "BATCH"],
         setup=_corrupt("batch/timeseries.parquet"), expect="timeseries.parquet"),
    Case("compare_runs_missing_column", ["compare", "BATCH"],
         setup=_parquet_without("batch/runs.parquet", "scenario"), expect="runs.parquet"),
    Case("compare_timeseries_is_folder", ["compare", "BATCH"],
         setup=lambda t: ((t / "batch/timeseries.parquet").unlink(),
                          (t / "batch/timeseries.parquet").mkdir()), expect="timeseries.parquet"),
    Case("compare_dir_is_file", ["compare", "TMP/f"], {"f": "x"}, "f"),
    Case("compare_horizon_zero", ["compare", "BATCH", "--horizons", "0"], None, "--horizons"),
    Case("compare_run_folder", ["compare", "TMP/r"],
         {"r/manifest.json": json.dumps({"kind": "run"})}, "batch"),
    Case("compare_output_folder_is_file", ["compare", "BATCH"], {"batch/compare": "x"},
         "compare"),
    # ------------------------------------------------------------ discover
    Case("discover_output_folder_is_file", ["discover", "BATCH", "--outcome",
                                            "poverty_headcount_final", "--threshold", "0.17"],
         {"batch/discovery": "x"}, "discovery"),
    Case("discover_threshold_inf", ["discover", "BATCH", "--outcome",
                                    "poverty_headcount_final", "--threshold", "inf"],
         None, "--threshold"),
    Case("discover_min_coverage_nan", ["discover", "BATCH", "--outcome",
                                       "poverty_headcount_final", "--threshold", "0.3",
                                       "--min-coverage", "nan"], None, "--min-coverage"),
    Case("discover_dzud_loss_nan", ["discover", "BATCH", "--outcome",
                                    "poverty_headcount_final", "--threshold", "0.3",
                                    "--dzud-loss", "nan"], None, "--dzud-loss"),
    Case("discover_dzud_loss_above_one", ["discover", "BATCH", "--outcome",
                                          "poverty_headcount_final", "--threshold", "0.3",
                                          "--dzud-loss", "1.5"], None, "--dzud-loss"),
    Case("discover_runs_corrupt", ["discover", "BATCH", "--outcome", "poverty_headcount_final",
                                   "--threshold", "0.3"],
         setup=_corrupt("batch/runs.parquet"), expect="runs.parquet"),
    Case("discover_timeseries_corrupt", ["discover", "BATCH", "--outcome",
                                         "poverty_headcount_final", "--threshold", "0.3"],
         setup=_corrupt("batch/timeseries.parquet"), expect="timeseries.parquet"),
    Case("discover_manifest_number", ["discover", "BATCH", "--outcome",
                                      "poverty_headcount_final", "--threshold", "0.3"],
         {"batch/manifest.json": "42"}, "manifest.json"),
    Case("discover_runs_without_status", ["discover", "BATCH", "--outcome",
                                          "poverty_headcount_final", "--threshold", "0.3"],
         setup=_parquet_without("batch/runs.parquet", "status"), expect="runs.parquet"),
    # ------------------------------------------------------------ trap
    Case("trap_bandwidth_inf", ["trap", "BATCH", "--bandwidth", "inf", "--no-png"], None,
         "--bandwidth"),
    Case("trap_bandwidth_text", ["trap", "BATCH", "--bandwidth", "wide"], None, "--bandwidth"),
    Case("trap_bootstrap_huge", ["trap", "BATCH", "--bootstrap", "100000000000"], None,
         "--bootstrap"),
    Case("trap_seed_negative", ["trap", "BATCH", "--seed", "-2", "--no-png"], None, "--seed"),
    Case("trap_panel_corrupt", ["trap", "BATCH", "--no-png"],
         setup=_corrupt("batch/panel.parquet"), expect="panel.parquet"),
    Case("trap_panel_missing_column", ["trap", "BATCH", "--no-png"],
         setup=_parquet_without("batch/panel.parquet", "herd_sfu"),
         expect="panel.parquet"),
    Case("trap_unknown_scenario", ["trap", "BATCH", "--scenario", "nobody", "--no-png"], None,
         "nobody"),
    Case("trap_output_folder_is_file", ["trap", "BATCH", "--no-png"], {"batch/trap": "x"},
         "trap"),
    # ------------------------------------------------------------ brief
    Case("brief_output_folder_is_file", ["brief", "BATCH", "--no-images"], {"batch/brief": "x"},
         "brief"),
    Case("brief_manifest_truncated", ["brief", "BATCH", "--no-images"],
         setup=lambda t: (t / "batch/manifest.json").write_bytes(
             (t / "batch/manifest.json").read_bytes()[:50]), expect="manifest.json"),
    Case("brief_runs_corrupt", ["brief", "BATCH", "--no-images"],
         setup=_corrupt("batch/runs.parquet"), expect="runs.parquet"),
    Case("brief_unknown_scenario", ["brief", "BATCH", "--no-images", "--scenarios", "zzz"],
         None, "zzz"),
    # ------------------------------------------------------------ hindcast
    nso("hindcast_mortality_without_year", _rewrite("mortality_rates_aimag.csv",
                                                    "Aimag,Year,", "Aimag,Yr,"), "Year"),
    nso("hindcast_population_without_species",
        _rewrite("livestock_population_aimag_species.csv", "Species", "Kind"), "Species"),
    nso("hindcast_mortality_latin1", _latin1("mortality_rates_aimag.csv"),
        "mortality_rates_aimag.csv"),
    nso("hindcast_population_utf16",
        lambda t: (t / "nso/livestock_population_aimag_species.csv").write_bytes(
            (t / "nso/livestock_population_aimag_species.csv").read_text().encode("utf-16")),
        "livestock_population_aimag_species.csv"),
    nso("hindcast_mortality_text_value",
        lambda t: _edit_zavkhan_row(t, "mortality_rates_aimag.csv", "2017", 7, "high"),
        "mortality_rates_aimag.csv"),
    nso("hindcast_mortality_above_one",
        lambda t: _edit_zavkhan_row(t, "mortality_rates_aimag.csv", "2016", 2, "1.7"),
        "mortality_rates_aimag.csv"),
    nso("hindcast_census_negative",
        lambda t: _edit_zavkhan_row(t, "livestock_population_aimag_species.csv", "2016", 3,
                                    "-12.5"), "livestock_population_aimag_species.csv"),
    nso("hindcast_census_infinite",
        lambda t: _edit_zavkhan_row(t, "livestock_population_aimag_species.csv", "2017", 3,
                                    "inf"), "livestock_population_aimag_species.csv"),
    nso("hindcast_mortality_empty", _replace_bytes("mortality_rates_aimag.csv", b""),
        "mortality_rates_aimag.csv"),
    nso("hindcast_table_is_folder",
        lambda t: ((t / "nso/mortality_rates_aimag.csv").unlink(),
                   (t / "nso/mortality_rates_aimag.csv").mkdir()), "mortality_rates_aimag.csv"),
    nso("hindcast_soum_profile_text_count",
        lambda t: _edit_zavkhan_row(t, "soum_profile_2019.csv", "Aldarkhaan", 3, "many",
                                    key=(1, 2)), "soum_profile_2019.csv"),
    nso("hindcast_herd_classes_without_total",
        _rewrite("herd_size_classes_aimag_2019.csv", ",total,", ",sum,"), "total"),
    nso("hindcast_prices_latin1", lambda t: (t / "nso/livestock_prices_soum_monthly_2021.csv")
        .write_bytes("soum_code,soum\n18101,Uliastaí\n".encode("latin-1")),
        "livestock_prices_soum_monthly_2021.csv"),
    scen("replay_table_text_rate",
         '[climate]\nregime = "replay"\nreplay_years = [2010]\ndata_dir = "TMP/nso"\n',
         "mortality_rates_aimag.csv", files={"nso/mortality_rates_aimag.csv":
                                             "Aimag,Year,Mort_hor,Mort_cat,Mort_cam,Mort_sheep,"
                                             "Mort_goat,All_SFU\nZavkhan,2010,x,0,0,0,0,0\n"}),
    nso("hindcast_households_zero", lambda t: None, "--households", ["--households", "0"]),
    nso("hindcast_replicates_negative", lambda t: None, "--replicates", ["--replicates", "-1"]),
    nso("hindcast_seed_negative", lambda t: None, "--seed", ["--seed", "-9"]),
    nso("hindcast_out_under_file", lambda t: (t / "plain.txt").write_text("x"), "--out",
        ["--out", "TMP/plain.txt/x"]),
    Case("hindcast_data_is_file", ["hindcast", "--data", "TMP/f.csv", "--aimag", "Zavkhan"],
         {"f.csv": "a,b\n"}, "f.csv"),
    # ------------------------------------------------------------ sensitivity spec
    Case("spec_not_utf8", ["sensitivity", "TMP/spec.toml", "--out", "TMP/out"],
         {"spec.toml": b'method = "sobol"\nname = "\xfe"\n'}, "spec.toml"),
    Case("spec_is_directory", ["sensitivity", "TMP/spec.toml", "--out", "TMP/out"],
         {"spec.toml/x": "x"}, "spec.toml"),
    Case("spec_fixed_households_nan",
         ["sensitivity", "TMP/spec.toml", "--out", "TMP/out"],
         {"spec.toml": 'method = "morris"\nn = 2\nscenario = "BASELINE"\n'
                       '[fixed]\n"population.households" = nan\n'}, "population.households"),
    Case("spec_ranges_nan", ["sensitivity", "TMP/spec.toml", "--out", "TMP/out"],
         {"spec.toml": 'method = "morris"\nn = 2\n[ranges]\n"herd.offtake_rate" = [nan, 0.16]\n'},
         "ranges"),
    Case("spec_name_number", ["sensitivity", "TMP/spec.toml", "--out", "TMP/out"],
         {"spec.toml": 'name = 3\nmethod = "morris"\nn = 2\n'}, "name"),
    Case("spec_fixed_is_list", ["sensitivity", "TMP/spec.toml", "--out", "TMP/out"],
         {"spec.toml": 'method = "morris"\nn = 2\nfixed = [1]\n'}, "fixed"),
    Case("spec_scenario_is_dir", ["sensitivity", "TMP/spec.toml", "--out", "TMP/out"],
         {"spec.toml": 'method = "morris"\nn = 2\nscenario = "TMP/sdir"\n', "sdir/x": "x"},
         "sdir"),
    Case("spec_jobs_zero", ["sensitivity", "TMP/spec.toml", "--jobs", "0", "--out", "TMP/out"],
         {"spec.toml": 'method = "morris"\nn = 2\n'}, "--jobs"),
    Case("spec_out_under_file", ["sensitivity", "TMP/spec.toml", "--out", "TMP/p.txt/o"],
         {"spec.toml": 'method = "morris"\nn = 2\nmodel = "ishigami"\n', "p.txt": "x"}, "--out"),
    # ------------------------------------------------------------ the command line itself
    Case("unknown_command", ["simulate", "baseline"], None, "simulate"),
    Case("argparse_missing_argument", ["discover", "BATCH", "--threshold", "1"], None,
         "--outcome"),
    Case("argparse_bad_choice", ["trap", "BATCH", "--measure", "median"], None, "--measure"),
]


#: The examples issue 17 names, each in its own words (the corpus above is different).
ISSUE_CASES: list[Case] = [
    scen("issue_run_is_5", "run = 5\n", "run"),
    scen("issue_parameters_is_5", "parameters = 5\n", "parameters"),
    scen("issue_households_nan", '[parameters]\n"population.households" = nan\n',
         "population.households"),
    scen("issue_not_utf8", 'base = "small.toml"\ndescription = "\xe9t\xe9"\n'.encode("latin-1"),
         "UTF-8"),
    Case("issue_directory_as_scenario", ["run", "TMP", "--out", "TMP/out"], expect="folder"),
    scen("issue_directory_as_base", '!base = "sub"\n', "base", files={"sub/x": "x"}),
    scen("issue_seed_minus_1", "", "--seed", extra=["--seed", "-1"]),
    scen("issue_malformed_scheduler", "", "--scheduler", cmd="batch",
         extra=["--backend", "dask", "--scheduler", "tcp://host:port"]),
    scen("issue_out_under_regular_file", "", "--out", extra=["--out", "TMP/f/out"],
         files={"f": "x"}),
    Case("issue_compare_corrupt_manifest", ["compare", "BATCH"], {"batch/manifest.json": "{"},
         "manifest.json"),
    Case("issue_compare_corrupt_runs", ["compare", "BATCH"],
         setup=_corrupt("batch/runs.parquet"), expect="runs.parquet"),
    Case("issue_discover_corrupt_timeseries", ["discover", "BATCH", "--outcome",
                                               "poverty_headcount_final", "--threshold", "0.2"],
         setup=_corrupt("batch/timeseries.parquet"), expect="timeseries.parquet"),
    Case("issue_trap_bandwidth_nan", ["trap", "BATCH", "--bandwidth", "nan"], None,
         "--bandwidth"),
    nso("issue_hindcast_missing_column", _rewrite("mortality_rates_aimag.csv", ",All_SFU,", ",X,"),
        "All_SFU"),
    nso("issue_hindcast_not_utf8", _latin1("livestock_population_aimag_species.csv"),
        "UTF-8"),
    Case("issue_names_5_and_text_5",
         ["batch", "TMP/a.toml", "TMP/b.toml", "-r", "1", "--out", "TMP/out"],
         {"small.toml": SMALL, "a.toml": 'base = "small.toml"\nname = 5\n',
          "b.toml": 'base = "small.toml"\nname = "5"\n'}, "name"),
    scen("issue_name_not_string", "name = true\n", "name"),
    scen("issue_description_not_string", "description = 1.5\n", "description"),
    scen("issue_empty_name", 'name = ""\n', "name"),
    scen("issue_name_with_nul", 'name = "a\\u0000b"\n', "name"),
    nso("issue_abc_in_mortality",
        lambda t: _edit_zavkhan_row(t, "mortality_rates_aimag.csv", "2016", 3, "abc"), "abc"),
    nso("issue_negative_census",
        lambda t: _edit_zavkhan_row(t, "livestock_population_aimag_species.csv", "2017", 3, "-1"),
        "Thousand_head"),
    scen("issue_species_does_not_exist", '[policies.insurance]\nspecies = "reindeer"\n',
         "reindeer", cmd="batch"),
    scen("issue_unknown_soum", TOPUP + 'soums = "Zavkhan:Nowhere"\n', "Nowhere", cmd="batch"),
    scen("issue_replay_year_without_data",
         '[climate]\nregime = "replay"\nreplay_years = [1960]\n', "1960", cmd="batch"),
    scen("issue_duplicate_aimags", '[run]\naimags = ["Khuvsgul", "Khuvsgul"]\n', "twice",
         cmd="batch"),
]


@pytest.mark.parametrize("case", ISSUE_CASES, ids=[c.id for c in ISSUE_CASES])
def test_the_issues_examples_are_refused(case, tmp_path, capsys, small_batch):
    check_refused(case, tmp_path, capsys, small_batch)


def _edit_zavkhan_row(tmp: Path, name: str, year: str, col: int, value: str,
                     key: tuple[int, int] = (0, 1)) -> None:
    """Set cell ``col`` of the row whose cells ``key`` are ("Zavkhan", ``year``)."""
    p = tmp / "nso" / name
    lines = p.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        cells = line.split(",")
        if cells[key[0]] == "Zavkhan" and cells[key[1]] == year:
            cells[col] = value
            lines[i] = ",".join(cells)
            break
    else:
        raise AssertionError((name, year))
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def small_batch(tmp_path_factory) -> Path:
    files = write_scenarios(tmp_path_factory.mktemp("scenarios"))
    out = tmp_path_factory.mktemp("bad") / "batch"
    run_batch(load_scenarios([str(p) for p in files], 2), 3, out, backend="sequential",
              progress=False, panel_fraction=0.5)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_line_exit_2_and_nothing_written(case, tmp_path, capsys, small_batch):
    check_refused(case, tmp_path, capsys, small_batch)


def test_the_corpus_is_large_and_names_are_unique():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("argv", [
    ["run", "TMP/s.toml", "--seed", "-1", "--out", "TMP/out"],
    ["batch", "TMP/s.toml", "-r", "1", "--backend", "dask", "--scheduler", "tcp://host:port",
     "--out", "TMP/out"],
])
def test_end_to_end_in_a_fresh_process(argv, tmp_path):
    (tmp_path / "small.toml").write_text(SMALL.replace("BASELINE", str(
        Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml")))
    (tmp_path / "s.toml").write_text('base = "small.toml"\n')
    rc, out, err = run_subprocess([a.replace("TMP", str(tmp_path)) for a in argv], tmp_path)
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml", "small.toml"]
