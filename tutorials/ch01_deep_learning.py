# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Chapter 1 — Deep learning, from the perceptron to K-FAC
#
# This tutorial walks through chapter 1 of *Deep Reinforcement Learning: Fundamentals, Research and
# Applications* with minirl's own pieces: `autodiff` (tensors and backpropagation), `minirl.nn` (layers,
# activations, losses) and `minirl.optim` (SGD, Adam, ..., K-FAC). Every network later in the book (value
# functions, policies, models) is built from these.
#
# 1. the perceptron and logic gates (§1.2–1.3), and why XOR needs a hidden layer;
# 2. activations (§1.4) and losses (§1.5);
# 3. backpropagation by hand vs. autodiff (§1.6.1);
# 4. an MLP and a small CNN on the 8×8 digits (§1.8), with dropout and batch norm (§1.7);
# 5. an LSTM on a toy memory task (§1.9);
# 6. optimizers compared (§1.6.2), learning-rate schedules, and K-FAC (the optimizer of ACKTR, §5.9).
#
# Run it as a script (`python tutorials/ch01_deep_learning.py`); `MINIRL_FAST=1` runs a shorter version.

# %%
import time

import numpy as np
from sklearn.datasets import load_digits

import autodiff as ad
import minirl.nn.functional as F
from minirl import nn, optim
from minirl.optim import lr_scheduler
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, scale

plt = pyplot()
FIGURES = figure_dir("ch01_deep_learning")
START = time.perf_counter()
print("fast mode" if fast_mode() else "full mode", "- figures go to", FIGURES)

# %% [markdown]
# ## 1. The perceptron (book §1.2, eqs. 1.1–1.3)
#
# A neuron weighs its inputs and thresholds: $z = w^\top x + b$, $y = \mathbb{1}[z > 0]$. Its decision
# boundary $w^\top x + b = 0$ is a line (a hyperplane), so it can only separate classes that a line separates.
# Rosenblatt's learning rule nudges $w$ towards misclassified points: $w \leftarrow w + \eta\,(t - y)\,x$.

# %%
X_GATE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "XOR": [0, 1, 1, 0]}


def train_perceptron(targets, epochs=50, eta=0.1):
    w, b = np.zeros(2), 0.0
    for _ in range(epochs):
        mistakes = 0
        for x, t in zip(X_GATE, targets):
            y = float(w @ x + b > 0)
            w, b = w + eta * (t - y) * x, b + eta * (t - y)
            mistakes += int(y != t)
        if mistakes == 0:
            break
    accuracy = np.mean([(w @ x + b > 0) == t for x, t in zip(X_GATE, targets)])
    return w, b, accuracy


fig, axes = plt.subplots(1, 5, figsize=(15, 3))
for ax, (name, targets) in zip(axes, GATES.items()):
    w, b, accuracy = train_perceptron(np.array(targets, dtype=float))
    print(f"perceptron on {name:4s}: accuracy {accuracy:.2f}, w = {w}, b = {b:.1f}")
    ax.scatter(*X_GATE.T, c=targets, cmap="coolwarm", s=120, edgecolors="k")
    xs = np.linspace(-0.5, 1.5, 2)
    if abs(w[1]) > 1e-9:
        ax.plot(xs, -(w[0] * xs + b) / w[1], "k--")
    ax.set_title(f"{name}: accuracy {accuracy:.2f}")
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
fig.suptitle("A perceptron learns AND, OR, NAND, NOR, but no line separates XOR (book fig. 1.6)")
fig.tight_layout()
fig.savefig(FIGURES / "perceptron_gates.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## 2. XOR needs a hidden layer (book §1.3, fig. 1.7)
#
# XOR = AND(OR, NAND): two hidden perceptrons compute OR and NAND, an output perceptron ANDs them. With step
# functions we can set the weights by hand; with smooth activations the same network can be *trained*.

# %%
step = lambda z: (z > 0).astype(float)  # noqa: E731
hidden = step(X_GATE @ np.array([[1.0, -1.0], [1.0, -1.0]]) + np.array([-0.5, 1.5]))  # OR, NAND
xor_by_hand = step(hidden @ np.array([1.0, 1.0]) - 1.5)  # AND
print("XOR with hand-set weights:", xor_by_hand, "targets:", GATES["XOR"])
assert list(xor_by_hand) == GATES["XOR"]

# %%
x_xor, t_xor = ad.tensor(X_GATE.astype(np.float32)), ad.tensor(np.array(GATES["XOR"], np.float32)[:, None])
successes, xor_nets = 0, []
for seed in range(8):
    rng = np.random.default_rng(seed)
    net = nn.Sequential(nn.Linear(2, 2, rng=rng), nn.Tanh(), nn.Linear(2, 1, rng=rng))
    opt = optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    for _ in range(scale(1000, 400)):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(x_xor), t_xor)
        loss.backward()
        opt.step()
    solved = bool(np.all((net(x_xor).numpy() > 0) == (t_xor.numpy() > 0.5)))
    successes += solved
    xor_nets.append((net, solved))
print(f"a 2-2-1 MLP trained from 8 random initialisations solves XOR in {successes} of them "
      f"(the others are stuck in a poor local minimum: non-convexity, §1.6)")
assert successes >= 1

fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
grid = np.stack(np.meshgrid(np.linspace(-0.5, 1.5, 100), np.linspace(-0.5, 1.5, 100)), -1).reshape(-1, 2)
for ax, (net, solved) in zip(axes, [next(n for n in xor_nets if n[1]), next((n for n in xor_nets if not n[1]),
                                                                           xor_nets[0])]):
    with ad.no_grad():
        z = net(grid.astype(np.float32)).numpy().reshape(100, 100)
    ax.contourf(np.linspace(-0.5, 1.5, 100), np.linspace(-0.5, 1.5, 100), z > 0, cmap="coolwarm", alpha=0.3)
    ax.scatter(*X_GATE.T, c=GATES["XOR"], cmap="coolwarm", s=120, edgecolors="k")
    ax.set_title("trained MLP: solved" if solved else "trained MLP: stuck")
fig.suptitle("XOR with one hidden layer of two units")
fig.tight_layout()
fig.savefig(FIGURES / "xor_mlp.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## 3. Activations (book §1.4) and losses (§1.5)
#
# The derivative of each activation is what backpropagation multiplies by; autodiff computes it for us.
# Sigmoid and tanh saturate (derivative → 0 for large |z|: vanishing gradients); ReLU does not for z > 0.

# %%
z = ad.tensor(np.linspace(-4, 4, 201), requires_grad=True)
activations = {"sigmoid (1.8)": F.sigmoid, "tanh (1.9)": F.tanh, "ReLU (1.10)": F.relu,
               "leaky ReLU α=0.1 (1.11)": lambda v: F.leaky_relu(v, 0.1), "ELU (13.1)": F.elu,
               "softplus": F.softplus}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name, fn in activations.items():
    z.grad = None
    out = fn(z)
    out.sum().backward()  # Σ f(z_i): its gradient is f'(z_i) elementwise
    axes[0].plot(z.numpy(), out.numpy(), label=name)
    axes[1].plot(z.numpy(), z.grad.numpy(), label=name)
axes[0].set_title("activation f(z)")
axes[1].set_title("derivative f'(z), by autodiff")
axes[0].legend(fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "activations.png", dpi=100)
plt.close(fig)

# softmax (1.12) and cross-entropy (1.16): softmax([0, ln 2]) = [1/3, 2/3]
probs = F.softmax(ad.tensor([0.0, np.log(2.0)]), dim=-1).numpy()
print("softmax([0, ln 2]) =", probs)
assert np.allclose(probs, [1 / 3, 2 / 3])

# %%
residual = np.linspace(-3, 3, 121).astype(np.float32)
zero = np.zeros_like(residual)
losses = {"MSE (1.19)": F.mse_loss(residual, zero, reduction="none"),
          "MAE (1.20)": F.l1_loss(residual, zero, reduction="none"),
          "Huber δ=1 (4.27)": F.huber_loss(residual, zero, reduction="none")}
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, value in losses.items():
    ax.plot(residual, value.numpy(), label=name)
ax.set_xlabel("prediction − target")
ax.set_ylim(0, 4)
ax.legend()
ax.set_title("regression losses")
fig.tight_layout()
fig.savefig(FIGURES / "losses.png", dpi=100)
plt.close(fig)
print("Huber at 0.5, 2, −3:", F.huber_loss(np.array([0.5, 2.0, -3.0]), np.zeros(3), reduction="none").numpy())

# %% [markdown]
# ## 4. Backpropagation (book §1.6.1)
#
# The δ recursion derived by hand, the same gradients from autodiff, the recorded graph drawn, a gradient check
# and a Hessian-vector product have their own tutorial: `tutorials/ch01_backprop.py`. Here we use them.

# %% [markdown]
# ## 5. An MLP and a CNN on the 8×8 digits (book §1.8, §1.10.4)
#
# scikit-learn ships 1,797 handwritten digits as 8×8 images (no download). We train on 1,437 and test on 360.

# %%
digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)
order = np.random.default_rng(0).permutation(len(images))
train_idx, test_idx = order[:1437], order[1437:]
x_train, y_train = images[train_idx], digits.target[train_idx]
x_test, y_test = images[test_idx], digits.target[test_idx]


def accuracy(model, x, y):
    model.eval()
    with ad.no_grad():
        acc = float((model(x).numpy().argmax(1) == y).mean())
    model.train()
    return acc


def fit(model, x, y, epochs, lr=1e-3, batch=64, seed=0, evaluate=None):
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(x)), max(1, len(x) // batch)):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        if evaluate is not None:
            history.append(evaluate(model))
    return history


rng = np.random.default_rng(1)
mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 128, rng=rng), nn.ReLU(), nn.Linear(128, 10, rng=rng))
t0 = time.perf_counter()
fit(mlp, x_train, y_train, epochs=scale(40, 3))
mlp_acc = accuracy(mlp, x_test, y_test)
print(f"MLP 64-128-10: test accuracy {mlp_acc:.3f} ({time.perf_counter() - t0:.1f} s)")

# %% [markdown]
# The CNN (book fig. 1.20: convolutions, max-pooling, a dense layer) uses the image's 2-D structure: a 3×3
# kernel sees a local patch, and the same kernel slides over the whole image (weight sharing). Output sizes
# follow eq. 1.24, (W − F + 2P)/S + 1: 8 → 8 (F = 3, P = 1) → 4 (pool) → 4 → 2 (pool).

# %%
rng = np.random.default_rng(2)
cnn = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 2 * 2, 10, rng=rng),
)
t0 = time.perf_counter()
fit(cnn, x_train[:, None], y_train, epochs=scale(30, 1), lr=2e-3)
cnn_acc = accuracy(cnn, x_test[:, None], y_test)
print(f"CNN: test accuracy {cnn_acc:.3f} ({time.perf_counter() - t0:.1f} s)")
if not fast_mode():
    assert mlp_acc >= 0.95, f"the MLP should reach 95% test accuracy, got {mlp_acc:.3f}"
    assert cnn_acc >= 0.97, f"the CNN should reach 97% test accuracy, got {cnn_acc:.3f}"

# %% [markdown]
# ## 6. Dropout and batch normalization (book §1.7)
#
# With only 150 training digits a wide MLP overfits: training accuracy reaches 100% while test accuracy
# stalls. Dropout (drop each hidden unit with probability p during training, keep all at test time, book
# §1.7.3) and batch normalization (standardize each unit over the batch; running averages at test time,
# §1.7.4) change how training proceeds. Both behave differently in `train()` and `eval()` modes; `accuracy`
# above switches to eval mode. On a problem this small the differences in final test accuracy are a point
# or two (dropout also slows the fit down: it trains a different thinned network at every step), so read
# the curves, not just the last numbers.

# %%
small_x, small_y = x_train[:150], y_train[:150]


def wide_mlp(kind, seed=3):
    rng = np.random.default_rng(seed)
    extra = {"plain": lambda n: [], "dropout": lambda n: [nn.Dropout(0.5, rng=rng)],
             "batch norm": lambda n: [nn.BatchNorm1d(n)]}[kind]
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 256, rng=rng), *extra(256), nn.ReLU(),
                         nn.Linear(256, 256, rng=rng), *extra(256), nn.ReLU(), nn.Linear(256, 10, rng=rng))


fig, ax = plt.subplots(figsize=(6, 4))
for kind in ["plain", "dropout", "batch norm"]:
    model = wide_mlp(kind)
    curve = fit(model, small_x, small_y, epochs=scale(60, 8), lr=1e-3, batch=32,
                evaluate=lambda m: (accuracy(m, small_x, small_y), accuracy(m, x_test, y_test)))
    train_acc, test_acc = zip(*curve)
    ax.plot(test_acc, label=f"{kind}: test")
    ax.plot(train_acc, ":", color=ax.lines[-1].get_color(), label=f"{kind}: train")
    print(f"{kind:10s}: train accuracy {train_acc[-1]:.3f}, test accuracy {test_acc[-1]:.3f}")
ax.set_xlabel("epoch (150 training digits)")
ax.set_ylabel("accuracy")
ax.legend(fontsize=8)
ax.set_title("regularization on a small training set")
fig.tight_layout()
fig.savefig(FIGURES / "dropout_batchnorm.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## 7. An LSTM on a memory task (book §1.9, eq. 1.26)
#
# Each sequence is T random signs ±1; the target is the *first* one. The network must carry one bit across T
# steps. The LSTM's cell state C_t = f ⊙ C_{t−1} + i ⊙ tanh(·) is an additive path along which the gradient
# does not have to pass through T matrix products, so it does not vanish as in a plain RNN (h_t = tanh(W[x_t;
# h_{t−1}] + b), eq. 1.25). One detail matters: the forget gate f = σ(·) starts near σ(0) = ½, which halves
# the memory at every step (½²⁰ ≈ 10⁻⁶ after 20 steps); starting its bias at 1 (Jozefowicz et al. 2015)
# keeps f ≈ 0.73 and lets the gradient reach the first step from the start.

# %%
T_SEQ = 20


def memory_batch(rng, n=64):
    bits = rng.choice([-1.0, 1.0], size=(T_SEQ, n, 1)).astype(np.float32)
    return bits, (bits[0, :, 0] > 0).astype(np.int64)


class SequenceClassifier(nn.Module):
    def __init__(self, cell, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.rnn = cell(1, 16, rng=rng)
        if cell is nn.LSTM:  # gates are stacked (i, f, g, o): rows 16..31 are the forget gate's
            self.rnn.bias_ih_l0.data[16:32] = 1.0
        self.head = nn.Linear(16, 2, rng=rng)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[-1])  # the last hidden state h_T


fig, ax = plt.subplots(figsize=(6, 3.5))
for name, cell in [("LSTM", nn.LSTM), ("RNN (tanh)", nn.RNN)]:
    model, rng = SequenceClassifier(cell, seed=4), np.random.default_rng(5)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    accs = []
    for _ in range(scale(300, 60)):
        x_seq, y_seq = memory_batch(rng)
        opt.zero_grad()
        logits = model(x_seq)
        F.cross_entropy(logits, y_seq).backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        accs.append(float((logits.numpy().argmax(1) == y_seq).mean()))
    smooth = np.convolve(accs, np.ones(10) / 10, mode="valid")
    ax.plot(smooth, label=name)
    print(f"{name}: accuracy over the last 20 batches {np.mean(accs[-20:]):.2f}")
ax.axhline(0.5, color="gray", linestyle=":")
ax.set_xlabel("update")
ax.set_ylabel("batch accuracy (running mean)")
ax.set_title(f"recall the first of {T_SEQ} signs")
ax.legend()
fig.tight_layout()
fig.savefig(FIGURES / "lstm_memory.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## 8. Optimizers compared (book §1.6.2, Alg. 1.1 SGD, Alg. 1.2 Adam)
#
# The same MLP (64-64-10, tanh) and the same mini-batches, trained with each rule of `minirl.optim`.
# SGD follows the raw gradient; momentum averages it over steps; AdaGrad, RMSprop and Adam scale each
# coordinate by a running size of its gradients; K-FAC preconditions with (a Kronecker-factored
# approximation of) the inverse Fisher matrix: the natural gradient (book §5.9).

# %%
flat_train, flat_test = x_train.reshape(-1, 64), x_test.reshape(-1, 64)
CHOICES = {
    "SGD": lambda m: optim.SGD(m.parameters(), lr=0.1),
    "SGD + momentum": lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
    "Nesterov": lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True),
    "AdaGrad": lambda m: optim.Adagrad(m.parameters(), lr=0.05),
    "RMSprop": lambda m: optim.RMSprop(m.parameters(), lr=1e-3),
    "Adam": lambda m: optim.Adam(m.parameters(), lr=3e-3),
    "AdamW": lambda m: optim.AdamW(m.parameters(), lr=3e-3, weight_decay=0.01),
    "K-FAC": lambda m: optim.KFAC(m, lr=0.25, kl_clip=0.01),
}
STEPS = scale(400, 60)


def train_curve(make_opt, x, steps=STEPS, seed=6):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(64, 64, rng=rng), nn.Tanh(), nn.Linear(64, 10, rng=rng))
    opt = make_opt(model)
    curve = []
    for _ in range(steps):
        idx = rng.integers(0, len(x), 128)
        opt.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y_train[idx])
        loss.backward()
        opt.step()
        curve.append(loss.item())
    return model, opt, curve


fig, ax = plt.subplots(figsize=(7, 4.5))
results = {}
for name, make_opt in CHOICES.items():
    t0 = time.perf_counter()
    model, opt, curve = train_curve(make_opt, flat_train)
    results[name] = (model, opt, curve)
    smooth = np.convolve(curve, np.ones(10) / 10, mode="valid")
    ax.plot(smooth, label=name, linestyle="--" if name == "K-FAC" else "-")
    print(f"{name:15s}: final training loss {np.mean(curve[-10:]):.3f}, test accuracy "
          f"{accuracy(model, flat_test, y_test):.3f}, {1e3 * (time.perf_counter() - t0) / STEPS:.2f} ms/step")
ax.set_yscale("log")
ax.set_xlabel("update (batch of 128 digits)")
ax.set_ylabel("training loss (running mean of 10)")
ax.set_title("optimizers on the digits MLP")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "optimizers.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ### Learning-rate schedules
#
# Too large a step diverges, too small crawls (book fig. 1.10); a schedule starts large and decays.
# `minirl.optim.lr_scheduler` sets `group["lr"]` of the optimizer each time `scheduler.step()` is called.

# %%
SCHEDULES = {
    "StepLR(30, γ=0.5)": lambda o: lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
    "ExponentialLR(γ=0.97)": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.97),
    "LinearLR warm-up (10)": lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=10),
    "CosineAnnealingLR(100)": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=100),
    "LambdaLR linear to 0": lambda o: lr_scheduler.LambdaLR(o, lambda t: max(0.0, 1 - t / 100)),
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, make in SCHEDULES.items():
    opt = optim.SGD([ad.tensor([0.0], requires_grad=True)], lr=1.0)
    sched = make(opt)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    ax.plot(lrs, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate / initial rate")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "lr_schedules.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## 9. K-FAC: the natural gradient, cheaply (book §5.9)
#
# The natural gradient F⁻¹g measures steps by how much they change the model's *predictions* (a KL
# divergence), not its parameters. So it does not care how the inputs are scaled: multiply feature j by
# s_j and the weights W_{:j} shrink by 1/s_j, and F⁻¹g moves the predictions exactly as before. Plain SGD
# does care: badly scaled features make the loss surface a narrow valley. Below, each of the 64 pixels is
# multiplied by a random factor between 0.1 and 10.
#
# K-FAC keeps for each layer A = E[ā āᵀ] (inputs, with a 1 for the bias) and G = E[g gᵀ] (gradients of the
# layer's outputs), and uses F_layer ≈ A ⊗ G, whose inverse applied to ∇W is G⁻¹ ∇W A⁻¹ (eqs. 5.49–5.52):
# two small inverses instead of one enormous one. ACKTR also clips the step so the predicted KL change
# ½ η² gᵀF⁻¹g stays below δ (`kl_clip`); `opt.last_nu` is the factor ν ≤ 1 that the clip applied.

# %%
scales = np.exp(np.random.default_rng(7).uniform(np.log(0.1), np.log(10), 64)).astype(np.float32)
fig, ax = plt.subplots(figsize=(6, 4))
for name in ["SGD + momentum", "K-FAC"]:
    for scaled in (False, True):
        x = flat_train * scales if scaled else flat_train
        _, opt, curve = train_curve(CHOICES[name], x, steps=scale(300, 40))
        smooth = np.convolve(curve, np.ones(10) / 10, mode="valid")
        ax.plot(smooth, label=f"{name}, {'rescaled' if scaled else 'original'} pixels",
                linestyle=":" if scaled else "-")
        print(f"{name:15s} {'rescaled' if scaled else 'original'} inputs: final loss {np.mean(curve[-10:]):.3f}")
ax.set_yscale("log")
ax.set_xlabel("update")
ax.set_ylabel("training loss")
ax.set_title("K-FAC is (nearly) invariant to input scaling")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "kfac_invariance.png", dpi=100)
plt.close(fig)
print("K-FAC's last KL-clip factor ν on the digits MLP:", round(results["K-FAC"][1].last_nu, 3))

# %%
print(f"done in {time.perf_counter() - START:.1f} s; figures:", sorted(p.name for p in FIGURES.glob("*.png")))
