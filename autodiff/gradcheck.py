"""Check analytic gradients against finite differences: `gradcheck` and `gradgradcheck`.

The derivative of f at x along v is approximated by the central difference
    (f(x + εv) − f(x − εv)) / 2ε,    with error O(ε²),
which in float64 with ε = 1e-6 agrees with an exact gradient to about 1e-8. For small inputs every column of
the Jacobian is checked; for large ones, random directions u (outputs) and v (inputs): uᵀJv both ways.
Use them on your own ops: a wrong backward rule rarely survives either.
"""

from __future__ import annotations

import numpy as np

from autodiff.engine import grad
from autodiff.grad_mode import no_grad
from autodiff.tensor import Tensor


class GradcheckError(AssertionError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if o is not None]


def _output_vector(fn, inputs):
    # evaluated with recording on: gradgradcheck's function itself differentiates
    return np.concatenate([np.asarray(o.numpy(), dtype=np.float64).ravel() for o in _outputs(fn, inputs)])


def _vjp(fn, inputs, targets, u):
    """uᵀJ for each target input, computed by the engine."""
    outs = _outputs(fn, inputs)
    pairs, start = [], 0
    for o in outs:
        piece = u[start:start + o.data.size].reshape(o.shape)
        start += o.data.size
        if o.requires_grad:
            pairs.append((o, piece.astype(o.dtype)))
    if not pairs:
        return [np.zeros(t.shape) for t in targets]
    grads = grad([o for o, _ in pairs], targets, grad_outputs=[p for _, p in pairs], allow_unused=True)
    return [np.zeros(t.shape) if g is None else np.asarray(g.numpy(), dtype=np.float64) for g, t in zip(grads, targets)]


def _directional(fn, inputs, targets, directions, eps):
    """(f(x + εv) − f(x − εv)) / 2ε for a direction v given per target input."""
    originals = [t.data.copy() for t in targets]
    try:
        for t, v in zip(targets, directions):
            t.data[...] = t.data + eps * v
        plus = _output_vector(fn, inputs)
        for t, x0, v in zip(targets, originals, directions):
            t.data[...] = x0 - eps * v
        minus = _output_vector(fn, inputs)
    finally:
        for t, x0 in zip(targets, originals):
            t.data[...] = x0
    return (plus - minus) / (2 * eps)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, full_jacobian_limit=512, directions=4, seed=0,
              raise_exception=True) -> bool:
    """Compare the gradients autodiff computes for ``fn(*inputs)`` with finite differences.

    `inputs` is a Tensor or a sequence of Tensors (and other arguments, passed through); those with
    ``requires_grad=True`` are checked and must be float64. The full Jacobian is compared when it has at most
    `full_jacobian_limit` entries, else `directions` random projections uᵀJv. Returns True, or raises
    `GradcheckError` naming the input and the worst entry (returns False if ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    targets = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not targets:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i, t in enumerate(targets):
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {t.dtype}; finite differences need float64")
    n_out = _output_vector(fn, inputs).size
    n_in = sum(t.data.size for t in targets)
    rng = np.random.default_rng(seed)
    if n_out * n_in <= full_jacobian_limit:
        ok, message = _check_full(fn, inputs, targets, n_out, eps, atol, rtol)
    else:
        ok, message = _check_directions(fn, inputs, targets, n_out, eps, atol, rtol, directions, rng)
    if not ok and raise_exception:
        raise GradcheckError(message)
    return ok


def _check_full(fn, inputs, targets, n_out, eps, atol, rtol):
    analytic = [np.zeros((n_out, t.data.size)) for t in targets]
    for j in range(n_out):
        u = np.zeros(n_out)
        u[j] = 1.0
        for rows, g in zip(analytic, _vjp(fn, inputs, targets, u)):
            rows[j] = g.ravel()
    for k, t in enumerate(targets):
        for e in range(t.data.size):
            v = [np.zeros(s.shape) for s in targets]
            v[k][np.unravel_index(e, t.shape)] = 1.0
            numeric = _directional(fn, inputs, targets, v, eps)
            exact = analytic[k][:, e]
            bad = np.abs(exact - numeric) > atol + rtol * np.abs(numeric)
            if bad.any():
                j = int(np.argmax(np.abs(exact - numeric)))
                element = tuple(int(i) for i in np.unravel_index(e, t.shape))  # (0, 1), not (np.int64(0), ...)
                return False, (f"gradcheck: Jacobian mismatch for input {k} (shape {t.shape}) at element "
                               f"{element}, output {j}: analytic {exact[j]:.8g}, "
                               f"numerical {numeric[j]:.8g}")
    return True, ""


def _check_directions(fn, inputs, targets, n_out, eps, atol, rtol, directions, rng):
    for _ in range(directions):
        u = rng.standard_normal(n_out)
        v = [rng.standard_normal(t.shape) for t in targets]
        exact = sum(float(np.sum(g * d)) for g, d in zip(_vjp(fn, inputs, targets, u), v))
        numeric = float(u @ _directional(fn, inputs, targets, v, eps))
        if abs(exact - numeric) > atol + rtol * abs(numeric):
            return False, (f"gradcheck: directional derivative uᵀJv mismatch: analytic {exact:.8g}, "
                           f"numerical {numeric:.8g}")
    return True, ""


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, **kwargs) -> bool:
    """Check second derivatives: gradcheck of x ↦ uᵀ∂f/∂x (built with ``create_graph=True``) for a fixed
    random u, so every backward rule is checked to be differentiable itself."""
    inputs = _as_tuple(inputs)
    targets = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    with no_grad():
        outs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=np.float64) for o in outs]

    def first_derivative(*xs, create_graph=True):
        out = [o for o in _as_tuple(fn(*xs)) if o is not None]
        live = [(o, u) for o, u in zip(out, grad_outputs) if o.requires_grad]
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        if not live:
            return tuple(Tensor(np.zeros(x.shape)) for x in wrt)
        grads = grad([o for o, _ in live], wrt, grad_outputs=[u for _, u in live], create_graph=create_graph,
                     allow_unused=True)
        return tuple(Tensor(np.zeros(x.shape)) if g is None else g for g, x in zip(grads, wrt))

    # the recorded backward pass must compute the same first derivative as the plain one: a rule whose
    # create_graph branch is wrong would otherwise pass, its own finite differences agreeing with it
    recorded = first_derivative(*inputs)
    plain = first_derivative(*inputs, create_graph=False)
    for i, (r, p, t) in enumerate(zip(recorded, plain, targets)):
        if not np.allclose(r.numpy(), p.numpy(), atol=atol, rtol=rtol):
            worst = float(np.max(np.abs(r.numpy() - p.numpy())))
            message = (f"gradgradcheck: the first derivative for input {i} (shape {t.shape}) differs between the "
                       f"recorded (create_graph=True) and the plain backward pass, by up to {worst:.3g}")
            if kwargs.get("raise_exception", True):
                raise GradcheckError(message)
            return False
    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, **kwargs)
