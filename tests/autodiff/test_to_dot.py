"""`to_dot`: one node per op and per leaf, one arrow per argument, shapes in the labels, valid DOT text."""

import re
import shutil
import subprocess
from collections import Counter

import numpy as np
import pytest

import autodiff as ad

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"((?:, \w+=(?:"[^"]*"|[\w.]+))*)\];$')
EDGE = re.compile(r"^  (\w+) -> (\w+);$")


def parse(text):
    """The nodes ({id: label}) and edges ([(from, to)]) of our DOT text, checking its syntax on the way.
    Ops are drawn as ellipses, leaves and constants as boxes: the ids of the ops go to `parse.ops`."""
    lines = text.strip().splitlines()
    assert lines[0] == "digraph autodiff {" and lines[-1] == "}"
    assert text.count("{") == text.count("}") == 1
    nodes, edges, parse.ops = {}, [], set()
    for line in lines[1:-1]:
        if line in ("  rankdir=LR;", '  node [fontname="Helvetica"];'):
            continue
        if match := NODE.match(line):
            assert match[1] not in nodes, f"node {match[1]} declared twice"
            nodes[match[1]] = match[2].replace("\\n", "\n")
            if "shape=ellipse" in match[3]:
                parse.ops.add(match[1])
        else:
            match = EDGE.match(line)
            assert match, f"not a node or an edge: {line!r}"
            edges.append((match[1], match[2]))
    assert all(a in nodes and b in nodes for a, b in edges), "an edge names an undeclared node"
    return nodes, edges


def op_names(nodes):
    return Counter(label.split("\n")[0] for n, label in nodes.items() if n in parse.ops)


def two_layer_loss():
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    y = ad.tensor(rng.standard_normal((4, 2)).astype(np.float32))
    W1, b1 = ad.randn(3, 5, rng=rng, requires_grad=True), ad.zeros(5, requires_grad=True)
    W2, b2 = ad.randn(5, 2, rng=rng, requires_grad=True), ad.zeros(2, requires_grad=True)
    h = ad.tanh(x @ W1 + b1)
    loss = ((h @ W2 + b2 - y) ** 2).mean()
    return loss, dict(x=x, y=y, W1=W1, b1=b1, W2=W2, b2=b2)


def test_two_layer_network_has_one_node_per_op_and_one_arrow_per_argument():
    loss, names = two_layer_loss()
    nodes, edges = parse(ad.to_dot(loss, names=names))
    # mean is a scaled sum; a bias reaches its add through an explicit broadcast_to node
    assert op_names(nodes) == Counter(matmul=2, broadcastto=2, add=2, tanh=1, sub=1, pow=1, sum=1)
    leaves = [label for n, label in nodes.items() if n not in parse.ops]
    assert len(leaves) == 7  # x, y, W1, b1, W2, b2 and the exponent 2
    # matmul, add, sub, pow take two arguments; broadcast_to, tanh, sum one
    assert len(edges) == 2 * 2 + 2 * 2 + 2 + 2 + 2 * 1 + 1 + 1 == 16
    by_label = {label.split("\n")[0]: label for label in nodes.values()}
    assert by_label["W1"] == "W1\n(3, 5) float32\nrequires_grad"
    assert by_label["b2"] == "b2\n(2,) float32\nrequires_grad"
    assert by_label["x"] == "x\n(4, 3) float32"  # an input: no gradient kept
    assert by_label["tanh"] == "tanh\n(4, 5) float32"
    assert by_label["sum"] == "sum\n() float32"
    assert by_label["2"] == "2"


def test_the_output_is_marked_and_the_arrows_point_towards_it():
    loss, names = two_layer_loss()
    text = ad.to_dot(loss, names=names)
    nodes, edges = parse(text)
    (root,) = [line.split()[0] for line in text.splitlines() if "peripheries=2" in line]
    assert nodes[root].startswith("sum")
    assert not [a for a, _ in edges if a == root]  # nothing consumes the loss
    assert {b for a, b in edges if nodes[a].startswith("W1")} == {n for n, lab in nodes.items()
                                                                  if lab.startswith("matmul\n(4, 5)")}


def test_a_diamond_draws_the_shared_leaf_and_the_shared_op_once():
    x = ad.tensor([0.5, -1.0], requires_grad=True)
    h = x.tanh()
    out = (h + h * h + x.exp()).sum()
    nodes, edges = parse(ad.to_dot(out, names={"x": x}))
    assert sum(label.startswith("x\n") for label in nodes.values()) == 1
    assert op_names(nodes)["tanh"] == 1
    (x_id,) = [n for n, label in nodes.items() if label.startswith("x\n")]
    (tanh_id,) = [n for n, label in nodes.items() if label.startswith("tanh")]
    assert len([b for a, b in edges if a == x_id]) == 2  # into tanh and exp
    assert len([b for a, b in edges if a == tanh_id]) == 3  # h + h * h: three arguments


@pytest.mark.parametrize("make", [
    lambda: ad.tensor([1.0, 2.0]),
    lambda: ad.tensor([1.0, 2.0], requires_grad=True),
    lambda: ad.tensor([1.0, 2.0], requires_grad=True).detach() * 2,
])
def test_a_tensor_without_a_graph_is_a_single_node(make):
    t = make()
    nodes, edges = parse(ad.to_dot(t))
    assert list(nodes.values())[0].startswith("(2,) float32") and len(nodes) == 1 and not edges


def test_a_requires_grad_leaf_says_so_and_float64_is_shown():
    nodes, _ = parse(ad.to_dot(ad.tensor(np.zeros((2, 3)), requires_grad=True)))
    assert list(nodes.values()) == ["(2, 3) float64\nrequires_grad"]


def test_constant_arrays_and_freed_ops():
    x = ad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    out = ad.where(np.array([True, False, True]), x, 0.0).sum()
    nodes, edges = parse(ad.to_dot(out))
    assert "constant\n(3,) bool" in nodes.values() and "0.0" in nodes.values() and len(edges) == 4
    out.backward()  # frees the graph: what is left is the op, without its inputs
    nodes, edges = parse(ad.to_dot(out))
    assert list(nodes.values()) == ["sum\n(freed by backward)"] and not edges


def test_labels_are_escaped_and_the_text_can_be_written(tmp_path):
    x = ad.tensor([1.0], requires_grad=True)
    path = tmp_path / "graph.dot"
    text = ad.to_dot(x * 2, names={'the "input" x\\': x}, path=path)
    assert path.read_text(encoding="utf-8") == text
    nodes, _ = parse(text)
    assert 'the "input" x\\\n(1,) float32\nrequires_grad' in [lab.replace('\\"', '"').replace("\\\\", "\\")
                                                               for lab in nodes.values()]


def test_a_deep_graph_draws_without_recursion():
    x = ad.tensor([0.1], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    nodes, edges = parse(ad.to_dot(y))
    assert op_names(nodes)["mul"] == 5000 and len(edges) == 10000


def test_graphviz_accepts_the_text_where_it_is_installed(tmp_path):
    text = ad.to_dot(two_layer_loss()[0])
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True).stdout
        assert "<svg" in svg
    else:
        pydot = pytest.importorskip("pydot", reason="neither Graphviz's dot nor pydot is installed")
        (graph,) = pydot.graph_from_dot_data(text)
        assert len(graph.get_edges()) == 16
