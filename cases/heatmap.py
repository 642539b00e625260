"""Error heatmaps: a wrong array gradient entry by entry, so the pattern of the mistake shows.

Three panels side by side, drawn with matplotlib (an optional extra): what the implementation
returned, what the reference expects (one colour scale for both), and |got - expected|, with the
entries beyond the check's bound counted in its title. A conv `dw` wrong in a stride pattern or a
batchnorm `dx` wrong in one column is then a picture, not a list of indices.

Arrays of three or more dimensions are laid out as a mosaic (grid): one tile per index of the
leading dimensions, each tile the last two dimensions; (F, C, HH, WW) is F rows of C tiles.
"""

from __future__ import annotations

import io

import numpy as np

from .draw import PictureError


def grid(a: np.ndarray) -> np.ndarray:
    """`a` as a 2-D picture: a scalar is 1x1, a vector one row; from 3-D on, a mosaic of the
    last two dimensions' tiles (rows: the leading dimensions but one; columns: the one before the
    last two), tiles separated by a NaN line (drawn blank)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim <= 2:
        return np.atleast_2d(a)
    h, w = a.shape[-2:]
    cols = a.shape[-3]
    tiles = a.reshape(-1, cols, h, w)
    padded = np.pad(tiles, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=np.nan)
    rows = padded.shape[0]
    return padded.transpose(0, 2, 1, 3).reshape(rows * (h + 1), cols * (w + 1))[:-1, :-1]


def _ticks(n: int) -> np.ndarray:
    return np.arange(0, n, max(1, -(-n // 8)))     # at most 8 ticks


def _matplotlib():
    try:
        from matplotlib import rc_context
        from matplotlib.figure import Figure   # no pyplot: no global state, no display backend
    except ImportError:
        raise PictureError("error heatmaps need the Python package matplotlib: "
                           "pip install 'gradref[pictures]'") from None
    return Figure, rc_context


def heatmap(name: str, got: np.ndarray, expected: np.ndarray, allowed: np.ndarray,
            title: str, file_format: str = "png") -> bytes:
    """Got, expected and |got - expected| of gradient `name` as one PNG (or SVG); `allowed`: per
    entry, the largest |got - expected| the check accepts (cases/check.py, `allowed`)."""
    Figure, rc_context = _matplotlib()
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    diff = np.abs(got - expected)
    off = int(np.sum(~(diff <= allowed)))
    scale = float(np.nanmax(np.abs(np.concatenate([got.ravel(), expected.ravel()])), initial=0.0))
    scale = scale if scale > 0 and np.isfinite(scale) else 1.0
    g, e, d = grid(got), grid(expected), grid(diff)
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    panels = ((g, f"got {name}", "RdBu_r", -scale, scale),
              (e, f"expected {name}", "RdBu_r", -scale, scale),
              (d, f"|got - expected|: {off} of {diff.size} entries off", "magma_r", 0.0, None))
    # square entries unless the grid is a long strip, which would then be a hairline
    aspect = "equal" if max(g.shape) <= 20 * min(g.shape) else "auto"
    for ax, (data, label, cmap, lo, hi) in zip(axes, panels):
        im = ax.imshow(data, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest", aspect=aspect)
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
        if got.ndim <= 2:     # ticks at entry indices; a mosaic's would mean nothing
            ax.set_xticks(_ticks(data.shape[1]))
            ax.set_yticks(_ticks(data.shape[0]))
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.8)
    shape = "×".join(map(str, got.shape)) or "scalar"
    layout = "; tiles: the last two axes" if got.ndim >= 3 else ""
    fig.suptitle(f"{title}: {name} ({shape}{layout})", fontsize=10)
    out = io.BytesIO()
    with rc_context({"svg.fonttype": "none"}):    # an SVG's text stays text, not glyph paths
        fig.savefig(out, format=file_format, dpi=100)
    return out.getvalue()
