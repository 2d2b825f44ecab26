"""Static figure export: a failed kaleido render is retried, and an export that
keeps failing is a clear FigureExportError (no browser is started here)."""

from __future__ import annotations

import sys
import types

import plotly.graph_objects as go
import pytest

from experiments.report import figures


class FakeKaleido(types.ModuleType):
    """Stands in for kaleido: the first ``failures`` renders raise, as kaleido 1.5 does
    when its tab reads the blank page's JavaScript context."""

    def __init__(self, failures: int):
        super().__init__("kaleido")
        self.failures = failures
        self.calls = 0
        self.starts = 0
        self.stops = 0

    def calc_fig_sync(self, spec, opts=None, kopts=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
        return b"\x89PNG" + repr(opts).encode()

    def start_sync_server(self, **kwargs):
        self.starts += 1

    def stop_sync_server(self, **kwargs):
        self.stops += 1


@pytest.fixture
def fake_kaleido(monkeypatch):
    def install(failures: int) -> FakeKaleido:
        fake = FakeKaleido(failures)
        monkeypatch.setitem(sys.modules, "kaleido", fake)
        monkeypatch.setattr(figures, "chromium_path", lambda: "/usr/bin/chromium")
        return fake

    return install


def _fig() -> go.Figure:
    return go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))


def test_a_render_that_fails_is_retried_and_succeeds(fake_kaleido, tmp_path):
    fake = fake_kaleido(failures=figures.RENDER_ATTEMPTS - 1)
    (png,) = figures.export_figure(_fig(), tmp_path / "f", formats=("png",))
    assert png.read_bytes().startswith(b"\x89PNG")
    assert fake.calls == figures.RENDER_ATTEMPTS


def test_inside_an_exporter_block_a_failed_render_restarts_the_browser(fake_kaleido, tmp_path):
    fake = fake_kaleido(failures=1)
    with figures.figure_exporter():
        figures.export_figure(_fig(), tmp_path / "a", formats=("png",))
        figures.export_figure(_fig(), tmp_path / "b", formats=("png",))
    # one start for the block, one restart after the failure; every start is stopped
    assert (fake.starts, fake.stops, fake.calls) == (2, 2, 3)
    assert figures._server_depth == 0


def test_a_render_that_keeps_failing_is_a_clear_error_and_writes_nothing(fake_kaleido, tmp_path):
    fake_kaleido(failures=10**6)
    with pytest.raises(figures.FigureExportError, match="attempts.*kaleido_scopes"):
        figures.export_figure(_fig(), tmp_path / "f", formats=("png",))
    assert not list(tmp_path.iterdir())
    # save_figure (what reports call) turns it into a note and still writes the HTML
    written = figures.save_figure(_fig(), tmp_path / "g", formats=("html", "png"))
    assert [p.suffix for p in written] == [".html"]
