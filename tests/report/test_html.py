"""The reports' one table helper and page templates (experiments/report/html.py): what a
reader sees in a cell, and that text from a batch (scenario names, titles) is shown as
text, never run as HTML."""

from __future__ import annotations

import math

import pandas as pd
from markupsafe import Markup

from experiments.report import html


def test_table_shows_formatted_numbers_missing_values_and_escaped_text():
    df = pd.DataFrame({"scenario": ["<b>cm</b>", "base"], "n": [3, 4],
                       "mean": [1234.5678, math.nan]})
    out = html.table(df, formats=html.significant(4, thousands=True), classes="numbers")
    assert "<th>scenario</th><th>n</th><th>mean</th>" in out
    assert "<td>&lt;b&gt;cm&lt;/b&gt;</td><td>3</td><td>1,235</td>" in out
    assert "<td>base</td><td>4</td><td>n/a</td>" in out
    assert "<b>" not in out


def test_key_value_table_and_cells_already_html():
    out = html.kv_table([("Model", "herdtrap 0.1"), ("Hash", Markup("<code>ab12</code>"))])
    assert "<tr><th>Model</th><td>herdtrap 0.1</td></tr>" in out
    assert "<td><code>ab12</code></td>" in out and "<thead>" not in out


def test_number_formats_of_the_reports():
    assert html.fmt_value("poverty_headcount_final", 0.2979) == "29.8%"
    assert html.fmt_diff("poverty_headcount_final", -0.0003) == "-0.03 pp"
    assert html.fmt_interval("exits_total", 12.5, 3.25, 21.0, diff=True) == "+12.5 [+3.25, +21]"
    assert html.fmt_money_interval(1234.4, math.nan, math.inf) == "1,234 [n/a, inf]"
    assert html.fmt_num(-0.04, "share") == "0.0" and html.fmt_num(-1234.6, "cost") == "-1,235"
    assert html.fmt_ci(-0.4, 0.3, "share") == "95% CI −0.4 to 0.3"
    assert html.fmt_ci(-3.6, -2.6, "share", magnitude=True) == "95% CI 2.6–3.6"


def test_page_templates_escape_text_and_keep_fragments():
    page = html.render("brief.html", title="Brief <script>x()</script>", version="0.1",
                       commit="0123456789abcdef", date="2026-12-01", baseline="base",
                       replicates="3", key_sentences=["A & B."], n_findings=1,
                       figure_note=None, figures=[], scenarios=[], n_failed=0,
                       methods=html.kv_table([("Model", "m")]), limitations="L.",
                       citation=html.kv_table([("Cite", "c")]), reproduce="herdtrap batch",
                       dirty=False, warnings=[], budgets=None, triggers=None, who_gains_note="N <b>",
                       who_gains=[{"name": "s<1>", "headline": "H & I.",
                                   "table": html.table([["a"]], ["g"])}])
    assert "<script>x()" not in page
    assert "<h3>s&lt;1&gt;</h3><p>H &amp; I.</p>" in page and "N &lt;b&gt;" in page
    assert "<th>g</th>" in page  # a who-gains table, not its escaped markup and "Brief &lt;script&gt;x()&lt;/script&gt;" in page
    assert "<li>A &amp; B.</li>" in page
    assert "<tr><th>Model</th><td>m</td></tr>" in page  # the table, not its escaped markup
    assert "table{border-collapse" in page  # the one stylesheet, inline
