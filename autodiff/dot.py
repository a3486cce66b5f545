"""`to_dot`: the computation graph behind a tensor, as Graphviz DOT text (micrograd's `draw_dot`).

    loss = ((x @ W.T + b).tanh() ** 2).mean()
    print(ad.to_dot(loss, names={"x": x, "W": W, "b": b}))

What a learner sees, read left to right:

- an ellipse per op (one `Function` node), labelled with the op's name and the shape and dtype of the array it
  made: `matmul (4, 5) float32`. The tensor `to_dot` was called on (its op, or the leaf itself) has a double
  border.
- a box per leaf tensor: its name (when `names` gives one), its shape and dtype. A leaf with
  `requires_grad=True` (a parameter: backward leaves its gradient in `.grad`) is filled and says so; a plain
  input is not. A leaf used twice (a diamond) is drawn once, with two arrows leaving it.
- a small grey box per constant an op was given (a Python number or an array that is not a Tensor), e.g. the 2
  of `x ** 2`: nothing flows back into it.
- an arrow from each input to the op that consumed it: one arrow per argument, so `x * x` has two.

The ops are the ones the engine records, so the picture shows what backward will walk, including the nodes
the library adds itself: the `broadcastto` that a bias goes through, the `transpose` of `W.T`. Draw before
calling `backward()`: without `retain_graph=True` backward frees the graph, and a freed op is drawn without
its inputs. The text needs no Graphviz; render it with `dot -Tpng`, or `graphviz.Source(text)` in a notebook.
"""

from __future__ import annotations

import numpy as np

from autodiff.tensor import Tensor


def to_dot(tensor: Tensor, names: dict | None = None, path=None) -> str:
    """The graph that produced `tensor`, in DOT. `names` maps names to leaf tensors (e.g.
    `dict(model.named_parameters())`); with `path` the text is also written to that file."""
    name_of = {id(t): name for name, t in (names or {}).items()}
    ids: dict[int, str] = {}  # id(op or leaf) -> its DOT id; the graph keeps every one alive meanwhile
    lines, edges = [], []

    def dot_id(obj):
        return ids.setdefault(id(obj), f"n{len(ids)}")

    def declare(name, label, style):
        lines.append(f'  {name} [label="{_escape(label)}", {style}];')

    root = tensor._node if tensor._node is not None else tensor
    stack, seen = [root], set()
    while stack:  # iterative: a 100k-deep graph draws without recursion
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        extra = ", peripheries=2" if obj is root else ""  # the tensor asked about
        if isinstance(obj, Tensor):  # a leaf
            label = f"{name_of[id(obj)]}\n" if id(obj) in name_of else ""
            label += _describe(obj.data)
            if obj.requires_grad:  # a parameter: backward will leave its gradient in .grad
                label, extra = f"{label}\nrequires_grad", f', style=filled, fillcolor="#cfe2f3"{extra}'
            declare(dot_id(obj), label, f"shape=box{extra}")
        elif obj.freed:
            declare(dot_id(obj), f"{obj.name}\n(freed by backward)", f"shape=ellipse, style=dashed{extra}")
        else:
            declare(dot_id(obj), f"{obj.name}\n{_describe(obj.out)}", f"shape=ellipse{extra}")
            for x in obj.inputs:
                if isinstance(x, Tensor):
                    source = x._node if x._node is not None else x
                    edges.append((dot_id(source), dot_id(obj)))
                    stack.append(source)
                else:  # a constant: drawn once per use, since nothing flows back into it
                    constant = f"c{len(edges)}"
                    label = repr(np.asarray(x).item()) if np.ndim(x) == 0 else f"constant\n{_describe(x)}"
                    declare(constant, label, 'shape=box, style=filled, fillcolor="#eeeeee", fontsize=10')
                    edges.append((constant, dot_id(obj)))
    text = "\n".join(["digraph autodiff {", "  rankdir=LR;", '  node [fontname="Helvetica"];', *lines,
                      *(f"  {a} -> {b};" for a, b in edges), "}", ""])
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return text


def _describe(array) -> str:
    return f"{tuple(array.shape)} {array.dtype}" if hasattr(array, "shape") else type(array).__name__


def _escape(label: str) -> str:
    return label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
