"""The calibration report of `herdtrap calibrate` (docs/CALIBRATION.md, Markdown): observed
vs simulated winters and the fitted blocks of every region file, from
:mod:`experiments.analysis.calibrate_compute`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from experiments.analysis.calibrate_compute import (
    ALPHA_RANGE,
    FIT_YEARS,
    PERSISTENCE_LABELS,
    REPORT_SEED,
    REPORT_YEARS,
    STOCK_YEAR,
    TOL_MEDIAN,
    TOL_P90,
    TOL_SHARE10,
    dist_stats,
    persistence_stats,
    report_params,
    simulate_sfu,
    window_persistence,
)
from model.region import HERD_CLASS_LABELS, SEASONS, load_region
from model.species import SFU, SPECIES


def _ar_wins(blobs: list[dict[str, Any]]) -> str:
    win = [b["aimag"] for b in blobs if b["dzud"]["persistence"]["loglik_gain"]
           >= b["dzud"]["persistence"]["markov_alternative"]["loglik_gain"]]
    if len(win) == len(blobs):
        return "every aimag" if len(blobs) > 1 else blobs[0]["aimag"]
    lose = [b["aimag"] for b in blobs if b["aimag"] not in win]
    return (", ".join(win) or "no aimag") + " (the Markov regime fits better in " \
        + ", ".join(lose) + "; see the notes)"


def persistence_report(blobs: list[dict[str, Any]], sfu: np.ndarray,
                       sfu_indep: np.ndarray) -> list[str]:
    """Report lines: fitted persistence and observed vs simulated run statistics."""
    L: list[str] = []
    a = L.append
    a("")
    a("### Year-to-year persistence (runs of bad winters)")
    a("")
    a("Bad winters cluster (Zavkhan lost 25% and 35% in 2000 and 2001, after 4.5% in "
      "1999 and before 6.1% in 2002). The generator makes the aimag copula scores a "
      "stationary AR(1), Z_t = φ·Z_(t−1) + √(1−φ²)·L′ε_t, with the innovation correlation "
      "L′L′ᵀ chosen so that Z_t keeps the fitted between-aimag copula; each aimag's "
      "marginal law is unchanged. φ is the maximum-likelihood AR(1) coefficient of the "
      "observed copula scores Z_t = Φ⁻¹(F(y_t)) (F: the fitted mixture). The alternative "
      "with as many parameters, a two-state Markov chain on the mixture's regime (stationary "
      "probability p_dzud, one autocorrelation), was fitted by maximum likelihood too; the "
      "AR(1) gains more log-likelihood over independent winters in "
      + _ar_wins(blobs) + ".")
    a("")
    a("| aimag | φ (MLE) | profile 95% CI | log-lik gain vs independent | lag-1 corr of Z | "
      "Markov regime: autocorr / log-lik gain |")
    a("|---|---|---|---|---|---|")
    for b in blobs:
        q = b["dzud"]["persistence"]
        m = q["markov_alternative"]
        a(f"| {b['aimag']} | {q['phi']:.3f} | {q['phi_ci95_profile'][0]:.2f} to "
          f"{q['phi_ci95_profile'][1]:.2f} | {q['loglik_gain']:.2f} | "
          f"{q['lag1_corr_scores']:.2f} | {m['regime_autocorr']:.2f} / "
          f"{m['loglik_gain']:.2f} |")
    a("")
    n_obs = blobs[0]["dzud"]["observed_persistence"]["n_years"]
    a(f"Statistics of the SFU mortality series: observed (NSO {FIT_YEARS[0]}–{FIT_YEARS[1]}, "
      f"{n_obs} years) with a 95% CI ({blobs[0]['dzud']['observed_persistence']['ci_method']}); "
      f"simulated over the same {REPORT_YEARS:,} winters as above; the range of the "
      f"statistic over the simulation's {REPORT_YEARS // n_obs} non-overlapping {n_obs}-year "
      "windows (what 33 years of this generator can show); and independent winters (φ = 0, "
      "the generator before persistence). A bad winter is one above the aimag's observed "
      "75th percentile of SFU mortality (threshold in the first column). The CIs are wide: "
      "33 years cannot pin down φ, so `climate.persistence_scale` varies it in sensitivity "
      "analysis.")
    a("")
    a("| aimag (p75) | statistic | observed [95% CI] | simulated | within CI | "
      f"simulated {n_obs}-year windows: median [2.5%–97.5%] | observed within | "
      "independent winters |")
    a("|---|---|---|---|---|---|---|---|")

    def f(key: str, v: float) -> str:
        if not np.isfinite(v):
            return "n/a"
        if key in ("pairs_bad", "pairs_above_10pct", "bad_after_bad"):
            return f"{100 * v:.1f}%"
        return f"{v:.2f}"
    for i, b in enumerate(blobs):
        op = b["dzud"]["observed_persistence"]
        thr = op["bad_threshold"]
        sim = persistence_stats(sfu[:, i], thr)
        ind = persistence_stats(sfu_indep[:, i], thr)
        win = window_persistence(sfu[:, i], thr, op["n_years"])
        for key, label in PERSISTENCE_LABELS.items():
            o, (lo, hi) = op["stats"][key], op["ci95"][key]
            w = win[key][np.isfinite(win[key])]
            wlo, wmed, whi = np.quantile(w, [0.025, 0.5, 0.975])
            a(f"| {b['aimag']} ({100 * thr:.1f}%) | {label} | {f(key, o)} [{f(key, lo)}, "
              f"{f(key, hi)}] | {f(key, sim[key])} | "
              f"{'yes' if lo <= sim[key] <= hi else 'NO'} | {f(key, wmed)} [{f(key, wlo)}–"
              f"{f(key, whi)}] | {'yes' if wlo <= o <= whi else 'NO'} | {f(key, ind[key])} |")
    return L


def write_report(blobs: list[dict[str, Any]], out_dir: Path, report: Path,
                 data_dir: Path, hashes: dict[str, str]) -> None:
    params = report_params()
    names = [b["aimag"] for b in blobs]
    region = load_region(names, regions_dir=out_dir)
    sfu, sev = simulate_sfu(region, REPORT_YEARS, REPORT_SEED, **params)
    L: list[str] = []
    a = L.append
    a("# Calibration report")
    a("")
    a("Generated by `python -m experiments.analysis.calibrate` from the NSO tables (see "
      "`model/data/nso/README.md`); do not edit by hand. Region files: "
      f"`model/data/regions/<aimag>.json`. Aimags: {', '.join(names)}.")
    a("")
    a("Input files (sha256):")
    a("")
    for k in sorted(hashes):
        a(f"- `{k}` `{hashes[k][:16]}…`")
    a("")
    a("## 1. Winter mortality: observed vs simulated")
    a("")
    a(f"Aimag SFU-weighted adult mortality per loss year. Observed: NSO `All_SFU`, "
      f"{FIT_YEARS[0]}–{FIT_YEARS[1]}. Simulated: {REPORT_YEARS:,} winters of "
      "`model.climate.draw_stochastic_winter` (seed "
      f"{REPORT_SEED}, soum_noise_sd={params['soum_noise_sd']}, "
      f"signal_corr={params['signal_corr']}, persistence_scale="
      f"{params['persistence_scale']}, from `model/parameters.toml`; each winter follows on "
      "from the last, see Persistence below) aggregated with "
      "`aimag_sfu_mortality` (species at 2019 stock × SFU weights, soums by 2019 livestock). "
      "Tolerances: median ±1.0 pp, 90th percentile ±4 pp, share of years above 10% ±4 pp "
      "(the observed p90 and share rest on 33 years, 2–4 of them dzud winters, so they are "
      "themselves uncertain by several points).")
    a("")
    a("| aimag | statistic | observed | simulated | difference | tolerance | pass |")
    a("|---|---|---|---|---|---|---|")
    tol = {"median": TOL_MEDIAN, "p90": TOL_P90, "share_above_10pct": TOL_SHARE10}
    label = {"median": "median", "p90": "90th percentile", "share_above_10pct":
             "share of years > 10%"}
    for i, b in enumerate(blobs):
        obs = b["dzud"]["observed_sfu"]
        sim = dist_stats(sfu[:, i])
        for k in ("median", "p90", "share_above_10pct"):
            d = sim[k] - obs[k]
            ok = "pass" if abs(d) <= tol[k] else "FAIL"
            a(f"| {b['aimag']} | {label[k]} | {100 * obs[k]:.1f}% | {100 * sim[k]:.1f}% | "
              f"{100 * d:+.1f} pp | ±{100 * tol[k]:.1f} pp | {ok} |")
    a("")
    a("Simulated severity is standardised with the mixture's mean and sd: over the "
      "simulation its mean is "
      + ", ".join(f"{sev[:, i].mean():+.2f} (sd {sev[:, i].std():.2f})"
                  for i in range(len(blobs))) + ".")
    if len(blobs) > 1:
        a("")
        a("Between-aimag dependence (Gaussian copula: y = F^-1(Phi(Z)) with Z correlated "
          "normals; rho solved so the latent y reproduces the observed "
          "correlation):")
        a("")
        a("| pair | copula rho | observed corr of logit SFU | simulated corr of latent y | "
          "simulated corr of logit SFU (after species and soum noise) |")
        a("|---|---|---|---|---|")
        ysim = np.log(np.clip(sfu, 1e-6, None) / (1 - sfu))
        for i in range(len(blobs)):
            for j in range(i + 1, len(blobs)):
                c = region.dzud_arrays.corr[i, j]
                o = blobs[i]["dzud"]["observed_corr_logit_sfu"].get(names[j])
                s = np.corrcoef(ysim[:, i], ysim[:, j])[0, 1]
                sl = np.corrcoef(sev[:, i], sev[:, j])[0, 1]
                a(f"| {names[i]}–{names[j]} | {c:.3f} | "
                  f"{'n/a' if o is None else f'{o:.2f}'} | {sl:.2f} | {s:.2f} |")
    L += persistence_report(blobs, sfu, simulate_sfu(region, REPORT_YEARS, REPORT_SEED,
                                                      **{**params, "persistence_scale": 0.0})[0])
    a("")
    a("## 2. Fitted dzud generator")
    a("")
    a("y = logit(aimag SFU mortality) ~ (1 − p) N(μ_normal, σ_normal) + p N(μ_dzud, σ_dzud); "
      "species: logit(m_s) = a_s + b_s·y + N(0, σ_s). Units: logit of a rate (per year). "
      "Source: " + blobs[0]["dzud"]["source"] + ".")
    a("")
    a("| aimag | p_dzud | μ_normal (rate) | σ_normal | μ_dzud (rate) | σ_dzud | "
      "mixture mean / sd of y | years with P(dzud) > ½ |")
    a("|---|---|---|---|---|---|---|---|")
    for b in blobs:
        z = b["dzud"]
        a(f"| {b['aimag']} | {z['p_dzud']:.3f} | {z['mu_normal']:.2f} "
          f"({100 / (1 + np.exp(-z['mu_normal'])):.1f}%) | {z['sd_normal']:.2f} | "
          f"{z['mu_dzud']:.2f} ({100 / (1 + np.exp(-z['mu_dzud'])):.1f}%) | "
          f"{z['sd_dzud']:.2f} | {z['y_mean']:.2f} / {z['y_sd']:.2f} | "
          f"{', '.join(map(str, z['dzud_years_posterior_gt_half']))} |")
    a("")
    a("| aimag | species | intercept a_s | slope b_s | resid sd σ_s | years (zero-clipped) |")
    a("|---|---|---|---|---|---|")
    for b in blobs:
        for s in SPECIES:
            z = b["dzud"]["species"][s]
            a(f"| {b['aimag']} | {s} | {z['intercept']:.3f} | {z['slope']:.3f} | "
              f"{z['resid_sd']:.3f} | {z['n_years']} ({z['n_clipped']}) |")
    a("")
    a("## 3. Prices (2021, thousand MNT per head)")
    a("")
    a("Source: " + blobs[0]["prices"]["source"] + ". Cattle: "
      + blobs[0]["prices"]["method"]["cattle"] + ".")
    a("")
    a("| aimag | species | annual mean | spring (Mar–May) | summer (Jun–Aug) | "
      "autumn (Sep–Nov) | winter (Dec–Feb) | method |")
    a("|---|---|---|---|---|---|---|---|")
    for b in blobs:
        p = b["prices"]
        for s in SPECIES:
            m = p["season_multiplier"]
            meth = "[est] horse × ratio" if s == "cattle" else p["method"][s]
            a(f"| {b['aimag']} | {s} | {p['annual_mean_kmnt'][s]:.0f} | "
              + " | ".join(f"{m[se][s]:.3f}" for se in SEASONS) + f" | {meth} |")
    a("")
    for i, b in enumerate(blobs):
        f = region.soum_price_factor[region.soum_aimag == i]
        a(f"- {b['aimag']}: soum price factor range {f.min():.2f}–{f.max():.2f} "
          f"(mean {f.mean():.3f}) over {len(f)} soums.")
    a("")
    a("## 4. Herd-size classes, top-class tail and herder households (2019)")
    a("")
    a("Households with livestock by herd size (head), NSO `herd_size_classes_aimag_2019.csv`. "
      "Bounded classes at their means (midpoints, as the model draws uniform integers "
      "within them). The open top class (>200) is drawn as min(⌊X⌋, cap) with X ~ "
      "Pareto(x_min = 201, α) (model/population.py); α is solved so that the households "
      f"with livestock hold the aimag's {STOCK_YEAR} stock S:")
    a("")
    a("  Σ_k n_k·mid_k + n_top·E[min(⌊X⌋, cap)] = S,  E[min(⌊X⌋, cap)] = x_min + "
      "Σ_{j = x_min+1}^{cap} (x_min / j)^α")
    a("")
    a(f"(α limited to {list(ALPHA_RANGE)}).")
    a("")
    a("| aimag | " + " | ".join(HERD_CLASS_LABELS) + " | total | α | cap | top-class mean head | "
      "implied / census stock (M head) | share of top class > 500 / > 1000 head |")
    a("|---|" + "---|" * (len(HERD_CLASS_LABELS) + 6))
    for b in blobs:
        h = b["herd_classes"]
        t = h["top_class"]
        a(f"| {b['aimag']} | " + " | ".join(f"{c['households']:,.0f}" for c in h["classes"])
          + f" | {h['total_households']:,.0f} | {t['pareto_alpha']:.3f} | "
          f"{t.get('cap_head', 0):,} | "
          f"{t['mean_head']:.0f} | {t['implied_stock_head'] / 1e6:.3f} / "
          f"{t['target_stock_head'] / 1e6:.3f} | {100 * t['share_above_500']:.1f}% / "
          f"{100 * t['share_above_1000']:.1f}% |")
    a("")
    a("**Herder households only.** The model simulates herder households (herding as main "
      "livelihood; the soums' `herder_households` in `soum_profile_2019.csv`), fewer than the "
      "households with livestock. The difference d = N_owners − N_herders are non-herder "
      "households (mostly soum-centre households with a few animals); they are removed from "
      "the smallest classes first, at most a share c = `population.nonherder_max_class_share` "
      "of any class ([est], model/parameters.toml):")
    a("")
    a("  r_k = min(c·n_k, max(0, d − Σ_{j<k} c·n_j)),  herders_k = n_k − r_k")
    a("")
    a("Each removed household holds its class's mean herd, so the herders hold S − Σ_k "
      "r_k·mean_k. The model draws its households' herds from herders_k (with the scenario's "
      "c; the table uses the default).")
    a("")
    a("| aimag | c | households with livestock | herder households | non-herders removed | "
      + " | ".join(f"herders {lab}" for lab in HERD_CLASS_LABELS)
      + " | share ≤ 30 / ≤ 100 head: owners → herders | non-herders' stock (M head, share of S) |")
    a("|---|" + "---|" * (len(HERD_CLASS_LABELS) + 6))
    for b in blobs:
        h = b["herd_classes"]
        g = h["herders"]
        t = h["top_class"]
        a(f"| {b['aimag']} | {g['nonherder_max_class_share']:.2f} | "
          f"{h['total_households']:,.0f} | {g['herder_households']:,.0f} | "
          f"{g['nonherder_households']:,.0f} | "
          + " | ".join(f"{c['herder_households']:,.0f}" for c in h["classes"])
          + f" | {100 * g['owners_share_up_to_30_head']:.1f}% / "
          f"{100 * g['owners_share_up_to_100_head']:.1f}% → "
          f"{100 * g['share_up_to_30_head']:.1f}% / {100 * g['share_up_to_100_head']:.1f}% | "
          f"{g['nonherder_head'] / 1e6:.3f} ({100 * g['nonherder_head'] / t['target_stock_head']:.1f}%) |")
    a("")
    a("## 5. Stock and soums (2019)")
    a("")
    a("| aimag | " + " | ".join(SPECIES) + " | total head | SFU | soums | herder households |")
    a("|---|" + "---|" * (len(SPECIES) + 4))
    for b in blobs:
        hd = b["stock_2019"]["head"]
        sfu_tot = sum(hd[s] * SFU[k] for k, s in enumerate(SPECIES))
        rows = b["soums"]["rows"]
        a(f"| {b['aimag']} | " + " | ".join(f"{hd[s]:,.0f}" for s in SPECIES)
          + f" | {sum(hd.values()):,.0f} | {sfu_tot:,.0f} | {len(rows)} | "
          f"{sum(r['herder_households'] for r in rows):,} |")
    a("")
    a("## 6. Notes and fallbacks")
    a("")
    for b in blobs:
        for n in b["notes"]:
            a(f"- {b['aimag']}: {n}")
    a("")
    a(f"Data directory at generation: `{_display_path(data_dir)}`.")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(L) + "\n", encoding="utf-8")


def _display_path(p: Path) -> str:
    from model.region import data_dir_label

    return data_dir_label(p)
