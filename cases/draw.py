"""Drawing a circuit (cases/circuit.py) with Graphviz, in the style of the notes' figures.

Left to right, inputs to outputs; each gate a circle with its symbol; each wire labelled with its
forward value in green and, under it, the gradient flowing back along it in red, both with two
decimals as the notes print them. Inputs show their total gradient; beside it, when an
implementation is being checked, the gradient it returned, marked right or wrong. Values with more
than MAX_SHOWN_ENTRIES entries are written as their shape: an array case reads as its dimensions.

Graphviz (the Python package and the `dot` program) is an optional extra: `pip install
'gradref[pictures]'` and `apt-get install graphviz`. Without them the one line of PictureError
says which to install.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from .circuit import Circuit

MAX_SHOWN_ENTRIES = 4       # more entries than this and a wire shows the array's shape
GREEN, RED, GREY, AMBER = "#1a7f37", "#c62828", "#57606a", "#9a6700"
WRONG_FILL, RIGHT_FILL, OTHER_FILL = "#ffd7d5", "#dafbe1", "#fff8c5"
FORMATS = ("svg", "png")


class PictureError(Exception):
    """A picture that cannot be made here: an optional package or program missing, a bad format."""


def graphviz_module():
    try:
        import graphviz
    except ImportError:
        raise PictureError("drawing circuits needs the Python package graphviz: "
                           "pip install 'gradref[pictures]'") from None
    return graphviz


def _number(v: float) -> str:
    """Two decimals as the notes print (0.73, -0.20); a value that would read 0.00 but is not 0
    in two significant digits (4.9e-03), so a small gradient is not mistaken for none."""
    if v != 0 and abs(v) < 0.005:
        return f"{v:.1e}"
    return f"{v:.2f}" if f"{v:.2f}" != "-0.00" else "0.00"


def fmt(x) -> str:
    """A value as a wire shows it: 0.73, [0.39, -0.59]; a larger array as its shape, 5×10."""
    a = np.asarray(x)
    if a.size > MAX_SHOWN_ENTRIES:
        return "×".join(map(str, a.shape))
    if a.dtype.kind not in "fc":
        return str(a.tolist())
    if a.ndim == 0:
        return _number(float(a))
    return "[" + ", ".join(map(_number, a.ravel().tolist())) + "]"


@dataclass
class Judged:
    """An implementation's gradient of one input, beside the expected one and the largest
    |got - expected| per entry that the check accepts (cases/check.py, `allowed`)."""
    got: np.ndarray
    expected: np.ndarray
    allowed: np.ndarray
    # On a kink, where the implementation's gradient is another valid subgradient (cases/kinks.py):
    # its entries off the declared convention are another convention, not wrong.
    another_convention: bool = False

    @property
    def off(self) -> int:
        return int(np.sum(~(np.abs(self.got - self.expected) <= self.allowed)))   # nan is off

    @property
    def wrong(self) -> str:
        """"" when it matches or is another convention; else what is off ("wrong", "3 of 50
        entries off")."""
        if not self.off or self.another_convention:
            return ""
        n = np.size(self.got)
        return "wrong" if n == 1 else f"{self.off} of {n} entries off"


def _font(text: str, color: str, bold: bool = False) -> str:
    body = html.escape(text)
    return f'<font color="{color}">{f"<b>{body}</b>" if bold else body}</font>'


def _input_label(node, judged: Judged | None) -> str:
    rows = [f"<b>{html.escape(node.label)}</b>"]
    if np.size(node.value) > MAX_SHOWN_ENTRIES:     # an array: its shape says it all
        rows.append(_font(fmt(node.value), GREY))
    else:
        rows.append(_font(fmt(node.value), GREEN))
        if node.grad is not None:
            rows.append(_font(f"d{node.label} = {fmt(node.grad)}", RED))
    cells = [f"<tr><td>{r}</td></tr>" for r in rows]
    if judged is not None:
        other = judged.another_convention and judged.off
        mark = f"✗ {judged.wrong}" if judged.wrong else "≈ another convention" if other else "✓"
        text = (f"got d{node.label} = {fmt(judged.got)} {mark}"
                if np.size(judged.got) <= MAX_SHOWN_ENTRIES else f"got d{node.label}: {mark}")
        wrong = bool(judged.wrong)
        fill, colour = ((WRONG_FILL, RED) if wrong else (OTHER_FILL, AMBER) if other
                        else (RIGHT_FILL, GREEN))
        cells.append(f'<tr><td bgcolor="{fill}">{_font(text, colour, bold=wrong)}</td></tr>')
    border = 3 if judged is not None and judged.wrong else 1
    color = RED if judged is not None and judged.wrong else "black"
    return (f'<<table border="{border}" color="{color}" cellborder="0" cellspacing="0" '
            f'cellpadding="3">{"".join(cells)}</table>>')


def _output_label(node) -> str:
    return (f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="3">'
            f'<tr><td><b>{html.escape(node.label)}</b></td></tr>'
            + (f'<tr><td>{_font(fmt(node.value), GREY)}</td></tr>'
               if np.size(node.value) > MAX_SHOWN_ENTRIES else
               f'<tr><td>{_font(fmt(node.value), GREEN)}</td></tr>'
               f'<tr><td>{_font(f"upstream {fmt(node.grad)}", RED)}</td></tr>')
            + '</table>>')


def _wire_label(wire) -> str:
    if np.size(wire.value) > MAX_SHOWN_ENTRIES:
        return f"<{_font(fmt(wire.value), GREY)}>"
    grad = "" if wire.grad is None else "<br/>" + _font(fmt(wire.grad), RED)
    return f"<{_font(fmt(wire.value), GREEN)}{grad}>"


def digraph(circuit: Circuit, title: str, judged: dict | None = None, impl_name: str = "",
            caption: str = ""):
    """The Graphviz graph of `circuit`; `judged`: {input name: Judged} from the implementation
    `impl_name`, whose gradients appear on the inputs as "got"; `caption`: lines under the
    title."""
    graphviz = graphviz_module()
    got = f"\ngot: the gradients of {impl_name} (✓ within the check's bound, ✗ not)" \
        if judged else ""
    label = title + got + (f"\n{caption}" if caption else "")
    g = graphviz.Digraph(graph_attr={"rankdir": "LR", "label": label, "labelloc": "t",
                                     "fontname": "Helvetica", "fontsize": "12"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "10", "arrowsize": "0.6"})
    for n in circuit.nodes:
        if n.kind == "input":
            g.node(n.id, _input_label(n, (judged or {}).get(n.label)), shape="plain")
        elif n.kind == "output":
            g.node(n.id, _output_label(n), shape="plain")
        else:   # a gate; an array-valued one also names its output's shape
            shape = f"\n{fmt(n.value)}" if np.size(n.value) > MAX_SHOWN_ENTRIES else ""
            g.node(n.id, n.label + shape, shape="circle" if len(n.label) <= 3 and not shape
                   else "ellipse")
    for w in circuit.wires:
        g.edge(w.src, w.dst, label=_wire_label(w))
    return g


def render(graph, file_format: str) -> bytes:
    """The graph as SVG or PNG bytes; a missing `dot` program is one PictureError line."""
    graphviz = graphviz_module()
    if file_format not in FORMATS:
        raise PictureError(f"cannot draw a .{file_format} file: use .svg or .png")
    try:
        return graph.pipe(format=file_format)
    except graphviz.ExecutableNotFound:
        raise PictureError("drawing circuits needs Graphviz's `dot` program: apt-get install "
                           "graphviz (Debian, Ubuntu), brew install graphviz (macOS)") from None
