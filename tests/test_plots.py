"""Figures of sigma_lib.report.plots: layouts no wider than 3.5:1, one line and band per setting."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from sigma_lib.report import plots  # noqa: E402


def rows():
    return [{"setting": s, "generation": g, "drift_U": -g * k, "drift_U_sd": 0.5, "hhi": 0.1 * g, "hhi_sd": 0.01}
            for k, s in ((1, "S1"), (2, "S2")) for g in range(4)]


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_panel_grid_keeps_figures_narrow(n):
    fig, axes = plots.panel_grid(n, (4.0, 3.0))
    w, h = fig.get_size_inches()
    assert len(axes) == n and w / h <= 3.5
    assert len(fig.axes) == n  # the unused cells of the last row are removed
    plt.close(fig)


def test_signals_grid_has_a_panel_per_signal_and_a_legend_panel():
    fig = plots.signals_grid(rows(), {"drift_U": "Track II", "hhi": "HHI"}, columns=2)
    drawn = [ax for ax in fig.axes if ax.get_ylabel()]
    assert [ax.get_ylabel() for ax in drawn] == ["Track II", "HHI"]
    assert len(drawn[0].get_lines()) >= 2  # S1 and S2 (and the zero line of a drift)
    assert any(ax.get_legend() is not None for ax in fig.axes)
    w, h = fig.get_size_inches()
    assert w / h <= 3.5
    plt.close(fig)


def test_plot_settings_draws_every_setting():
    fig, ax = plt.subplots()
    plots.plot_settings(ax, rows(), "drift_U", "drift_U_sd", ylabel="x")
    labels = [line.get_label() for line in ax.get_lines()]
    assert "S1" in labels and "S2" in labels
    plt.close(fig)


def test_realisations_draws_both_runs_of_a_seed_among_the_other_seeds():
    def long(replicate, k):
        return [{"replicate": replicate, "setting": "S2", "signal": s, "generation": g, "change": -k * g}
                for s in ("drift_U", "distinct_2") for g in range(4)]

    study = long("seed-0", 1) + long("seed-1", 2) + long("seed-2", 3)
    pairs = [{"seed": "seed-0", "setting": "S2"}]
    labels = {"drift_U": "Track II", "distinct_2": "distinct-2", "hhi": "HHI"}
    fig = plots.realisations(study, long("seed-0", 1.5), pairs, labels)
    assert len(fig.axes) == 3
    ax = fig.axes[0]
    styles = [(line.get_label(), line.get_linestyle()) for line in ax.get_lines()]
    assert ("seed-0 (another CPU kind)", "--") in styles and ("seed-1", "-") in styles and ("seed-2", "-") in styles
    dashed = next(line for line in ax.get_lines() if line.get_label() == "seed-0 (another CPU kind)")
    assert list(dashed.get_ydata()) == [0, -1.5, -3.0, -4.5]
    w, h = fig.get_size_inches()
    assert w / h <= 3.5
    plt.close(fig)
