# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 1.6.1: backpropagation, by hand and by autodiff
#
# The book derives backpropagation for a multilayer perceptron with sigmoid activations and the squared
# error $L = \frac12\lVert y - a^L\rVert^2$. With $z^l = W^l a^{l-1} + b^l$ and $a^l = \sigma(z^l)$:
#
# - output layer: $\delta^L = (a^L - y) \odot a^L (1 - a^L)$
# - hidden layers: $\delta^l = (W^{l+1})^\top \delta^{l+1} \odot a^l (1 - a^l)$
# - parameters: $\partial L / \partial W^l = \delta^l (a^{l-1})^\top$ and $\partial L / \partial b^l = \delta^l$
#
# We compute these four lines in plain NumPy, then let `autodiff` compute the same gradients from the
# forward pass alone, check both against finite differences, and finish with a Hessian-vector product,
# the second-order tool TRPO needs (chapter 5.7).

# %%
import numpy as np

import autodiff as ad
from minirl.utils.tutorial import figure_dir, pyplot, scale

rng = np.random.default_rng(0)
sizes = [3, 5, 4, 2]  # a^0 has 3 inputs, two hidden layers, 2 outputs
W = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
b = [rng.standard_normal((n_out, 1)) for n_out in sizes[1:]]
x = rng.standard_normal((3, 1))
y = np.array([[0.0], [1.0]])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# %% [markdown]
# ## By hand: the forward pass keeps every activation, the backward pass walks the layers in reverse

# %%
def backprop_by_hand(W, b, x, y):
    activations = [x]
    for Wl, bl in zip(W, b):
        activations.append(sigmoid(Wl @ activations[-1] + bl))
    aL = activations[-1]
    loss = 0.5 * float(np.sum((y - aL) ** 2))
    delta = (aL - y) * aL * (1 - aL)  # δ^L
    grads_W, grads_b = [None] * len(W), [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        grads_W[l] = delta @ activations[l].T  # ∂L/∂W^l = δ^l (a^{l-1})ᵀ
        grads_b[l] = delta  # ∂L/∂b^l = δ^l
        if l > 0:
            a = activations[l]
            delta = (W[l].T @ delta) * a * (1 - a)  # δ^l = (W^{l+1})ᵀ δ^{l+1} ⊙ a^l (1 − a^l)
    return loss, grads_W, grads_b


loss_hand, gW_hand, gb_hand = backprop_by_hand(W, b, x, y)
print(f"loss = {loss_hand:.6f}")

# %% [markdown]
# ## By autodiff: write only the forward pass
#
# Every operation records a node; `backward()` applies each node's local derivative in reverse order.
# The result must agree with the hand derivation to rounding error.

# %%
W_t = [ad.tensor(w, requires_grad=True) for w in W]
b_t = [ad.tensor(v, requires_grad=True) for v in b]


def loss_autodiff(*params):
    Ws, bs = params[: len(W)], params[len(W):]
    a = ad.tensor(x)
    for Wl, bl in zip(Ws, bs):
        a = ad.sigmoid(Wl @ a + bl)
    return 0.5 * ((ad.tensor(y) - a) ** 2).sum()


loss = loss_autodiff(*W_t, *b_t)
loss.backward()
worst = max(np.abs(t.grad.numpy() - g).max() for t, g in zip(W_t + b_t, gW_hand + gb_hand))
print(f"autodiff loss = {loss.item():.6f}, largest difference from the hand gradients = {worst:.2e}")
assert abs(loss.item() - loss_hand) < 1e-12 and worst < 1e-12

# %% [markdown]
# ## The recorded graph, drawn: `ad.to_dot`
#
# `backward()` walks the graph that the forward pass recorded. `ad.to_dot` returns that graph as Graphviz DOT
# text, as micrograd's `draw_dot` does: an ellipse per op, with the shape and dtype of what it computed; a box
# per leaf tensor, filled where `requires_grad=True` (backward leaves a gradient in its `.grad`); a grey box per
# constant; an arrow from each argument to the op that used it. Below, the two-layer network
# $\hat y = \tanh(x W_1^\top + b_1) W_2^\top + b_2$ with the mean squared error, its parameters taken from two
# `nn.Linear` layers but written op by op (calling a layer records one `linear` node). Look for the nodes we did
# not write: a `transpose` for each $W^\top$, a `broadcastto` for each bias (its backward sums over the batch),
# and `sum` for the mean. Draw before `backward()`, which frees the graph.

# %%
import shutil
import subprocess

from minirl import nn

layer_rng = np.random.default_rng(1)
fc1, fc2 = nn.Linear(3, 4, rng=layer_rng), nn.Linear(4, 2, rng=layer_rng)
batch, target = ad.randn(8, 3, rng=layer_rng), ad.randn(8, 2, rng=layer_rng)
hidden = ad.tanh(batch @ fc1.weight.T + fc1.bias)
prediction = hidden @ fc2.weight.T + fc2.bias
mse = ((prediction - target) ** 2).mean()
dot_text = ad.to_dot(mse, names={"x": batch, "y": target, "W1": fc1.weight, "b1": fc1.bias,
                                 "W2": fc2.weight, "b2": fc2.bias})
print(dot_text)
if shutil.which("dot"):
    graph_path = figure_dir("ch01_backprop") / "two_layer_graph.png"
    subprocess.run(["dot", "-Tpng", "-o", str(graph_path)], input=dot_text, text=True, check=True)
    print(f"saved {graph_path}")
else:
    print("Graphviz's `dot` program is not installed, so no picture: paste the text above into a DOT viewer")

# %% [markdown]
# ## The hand recursion as one node: `ad.dense_stack`
#
# Above, autodiff recorded one node per matrix product, addition and sigmoid. `ad.dense_stack` records the
# whole network as one node whose backward rule is the recursion of `backprop_by_hand`: it keeps every
# $a^l$ from the forward pass and walks $\delta$ back layer by layer. It takes row vectors (a batch of
# inputs $x^\top$, so each layer computes $a W^\top + b$) and the parameters as $[W^1, b^1, W^2, b^2, \ldots]$.
# `nn.DenseStack` computes its `Linear` layers and their activations this way, where `nn.Sequential` of the
# same layers records a node per module: on the small networks of RL, a node's bookkeeping costs about as much
# as a layer's arithmetic.

# %%
stack_params = [ad.tensor(p, requires_grad=True) for pair in zip(W, [c.ravel() for c in b]) for p in pair]
a_stack = ad.dense_stack(ad.tensor(x.T), stack_params, ["sigmoid"] * len(W))
loss_stack = 0.5 * ((ad.tensor(y.T) - a_stack) ** 2).sum()
loss_stack.backward()
print("graph of the stacked network:", a_stack.grad_fn)
worst = max(np.abs(t.grad.numpy() - g.reshape(t.shape)).max()
            for t, g in zip(stack_params, [g for pair in zip(gW_hand, gb_hand) for g in pair]))
print(f"largest difference from the hand gradients = {worst:.2e}")
assert worst < 1e-12

# %% [markdown]
# ## Gradient check: both against finite differences
#
# `ad.gradcheck` compares every entry of the Jacobian with $(f(x+\varepsilon) - f(x-\varepsilon))/2\varepsilon$
# in float64. It is how every op of `autodiff` is tested, and you can use it on your own functions.

# %%
params = [ad.tensor(p, requires_grad=True) for p in W + b]
print("gradcheck passed:", ad.gradcheck(loss_autodiff, params))

# %% [markdown]
# ## A Hessian-vector product, without ever forming the Hessian
#
# With `create_graph=True` the backward pass is itself recorded, so the gradient can be differentiated
# again: $Hv = \nabla_\theta (\nabla_\theta L \cdot v)$. We check it against finite differences of the gradient.

# %%
theta = ad.tensor(W[0], requires_grad=True)
v = rng.standard_normal(W[0].shape)


def loss_of_first_layer(Wl):
    return loss_autodiff(Wl, *[ad.tensor(w) for w in W[1:]], *[ad.tensor(c) for c in b])


(g,) = ad.grad(loss_of_first_layer(theta), [theta], create_graph=True)
(hv,) = ad.grad((g * ad.tensor(v)).sum(), [theta])


def gradient_at(w):
    t = ad.tensor(w, requires_grad=True)
    return ad.grad(loss_of_first_layer(t), [t])[0].numpy()


eps = 1e-6
hv_numeric = (gradient_at(W[0] + eps * v) - gradient_at(W[0] - eps * v)) / (2 * eps)
print(f"Hv difference from finite differences: {np.abs(hv.numpy() - hv_numeric).max():.2e}")
assert np.allclose(hv.numpy(), hv_numeric, atol=1e-6)

# %% [markdown]
# ## Training with the hand-derived gradients and with autodiff: the same trajectory
#
# Gradient descent $\theta \leftarrow \theta - \alpha\,\partial L/\partial\theta$ (book 1.6.1) on XOR-like data,
# once with `backprop_by_hand` and once with `autodiff`. The two loss curves lie on top of each other.

# %%
steps = scale(400, 60)
inputs = rng.standard_normal((3, 8))
targets = (rng.random((2, 8)) > 0.5).astype(float)


def train(use_autodiff, lr=2.0):
    Ws, bs = [w.copy() for w in W], [c.copy() for c in b]
    losses = []
    for _ in range(steps):
        if use_autodiff:
            ps = [ad.tensor(p, requires_grad=True) for p in Ws + bs]
            a = ad.tensor(inputs)
            for Wl, bl in zip(ps[: len(Ws)], ps[len(Ws):]):
                a = ad.sigmoid(Wl @ a + bl)
            loss = 0.5 * ((ad.tensor(targets) - a) ** 2).sum() / inputs.shape[1]
            loss.backward()
            losses.append(loss.item())
            grads = [p.grad.numpy() for p in ps]
        else:
            total, gW, gb = 0.0, [0.0] * len(Ws), [0.0] * len(Ws)
            for n in range(inputs.shape[1]):
                l_n, gW_n, gb_n = backprop_by_hand(Ws, bs, inputs[:, n:n + 1], targets[:, n:n + 1])
                total += l_n / inputs.shape[1]
                gW = [acc + g / inputs.shape[1] for acc, g in zip(gW, gW_n)]
                gb = [acc + g / inputs.shape[1] for acc, g in zip(gb, gb_n)]
            losses.append(total)
            grads = gW + gb
        for p, g in zip(Ws + bs, grads):
            p -= lr * g
    return np.array(losses)


by_hand, by_autodiff = train(False), train(True)
assert np.allclose(by_hand, by_autodiff, atol=1e-10)
plt = pyplot()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(by_hand, label="hand-derived backprop", linewidth=3, alpha=0.5)
ax.plot(by_autodiff, "--", label="autodiff")
ax.set_xlabel("gradient step")
ax.set_ylabel("squared error")
ax.set_title("Same gradients, same trajectory")
ax.legend()
path = figure_dir("ch01_backprop") / "backprop_hand_vs_autodiff.png"
fig.savefig(path, dpi=100, bbox_inches="tight")
print(f"saved {path}")
