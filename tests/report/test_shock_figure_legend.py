"""The report's policy-shocks figure: no legend covers a data point."""

from __future__ import annotations

import numpy as np


def test_no_legend_hides_a_data_point(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from riskmodel.report.render import _episode_inputs, _shock_figure

    closed = []
    monkeypatch.setattr(plt, "close", lambda fig=None: closed.append(fig))  # kept to look at
    table, doc = _episode_inputs()
    _shock_figure(table, doc, tmp_path / "episodes.png")
    (fig,) = closed
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    checked = 0
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        for line in ax.lines:
            xy = np.column_stack(line.get_data()).astype(float)
            xy = xy[np.isfinite(xy).all(axis=1)]
            if not len(xy):
                continue
            points = ax.transData.transform(xy)
            inside = (
                (points[:, 0] >= box.x0)
                & (points[:, 0] <= box.x1)
                & (points[:, 1] >= box.y0)
                & (points[:, 1] <= box.y1)
            )
            assert not inside.any(), f"the legend of '{ax.get_title()}' covers {xy[inside][:3]}"
            checked += 1
    monkeypatch.undo()
    plt.close(fig)
    assert checked > 10
