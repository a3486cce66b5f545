"""Conjugate gradient and the Fisher-vector product: TRPO's natural-gradient step (book §5.7, Alg. 5.22).

TRPO maximises the surrogate L(θ) subject to KL(π_old ‖ π_θ) ≤ δ. Expanding both around θ_old (book eqs.
5.29–5.30) gives the step θ' = θ + sqrt(2δ / (xᵀHx)) x with x = H⁻¹g, where H = ∇²KL at θ_old is the Fisher
information matrix. H has as many rows as the policy has weights, so it is never built: conjugate gradient
solves Hx = g using only products v ↦ Hv, and each product is one double backward pass,

    Hv = ∇θ ( (∇θ KL)ᵀ v )                     (the gradient of a gradient, `autodiff.grad(create_graph=True)`)

plus damping·v, which keeps the solve well posed where the sampled Fisher is nearly singular.

    fvp = fisher_vector_product(lambda: policy_kl(obs), params, damping=0.1)
    x = conjugate_gradient(fvp, g, iters=10)                # x ≈ (H + 0.1 I)⁻¹ g
    step = np.sqrt(2 * delta / (x @ fvp(x))) * x
    vector_to_parameters(parameters_to_vector(params) + step, params)
"""

from __future__ import annotations

import autodiff as ad
from autodiff import Tensor
from minirl.optim.optimizer import _xp


def conjugate_gradient(Avp, b, iters: int = 10, residual_tol: float = 1e-10):  # noqa: N803
    """Approximately solve A x = b for symmetric positive-definite A given only `Avp(v) = A v`.

    Starts at x = 0 and stops after `iters` products or once the squared residual ‖b − Ax‖² < residual_tol.
    In exact arithmetic it finishes in at most len(b) iterations; after k it has minimised ½xᵀAx − bᵀx over
    the k-dimensional Krylov space span{b, Ab, …, A^{k−1}b}."""
    x = b * 0
    r = b.copy()  # residual b − A x, with x = 0
    p = b.copy()  # search direction, A-conjugate to the previous ones
    rr = float(r @ r)
    for _ in range(iters):
        if rr < residual_tol:
            break
        Ap = Avp(p)
        alpha = rr / float(p @ Ap)  # exact line minimum along p
        x += alpha * p
        r -= alpha * Ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p  # the next direction: conjugate to p (Gram–Schmidt in the A-inner product)
        rr = rr_new
    return x


def parameters_to_vector(params) -> object:
    """All parameters' values as one flat array (a copy), in order."""
    params = list(params)
    return _xp(params[0].data).concatenate([p.data.reshape(-1) for p in params])


def vector_to_parameters(vector, params) -> None:
    """Write the flat array `vector` back into the parameters, in place (the inverse of the above)."""
    params = list(params)
    total = sum(p.data.size for p in params)
    if vector.size != total:
        raise ValueError(f"vector_to_parameters: the vector has {vector.size} entries, the parameters {total}")
    offset = 0
    for p in params:
        p.data[...] = vector[offset:offset + p.data.size].reshape(p.shape)
        offset += p.data.size


def flat_grad(output: Tensor, params, retain_graph: bool | None = None, create_graph: bool = False):
    """∂output/∂params concatenated into one vector: a Tensor when `create_graph`, else an array."""
    params = list(params)
    grads = ad.grad(output, params, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)
    grads = [ad.zeros_like(p) if g is None else g for g, p in zip(grads, params)]
    flat = ad.concatenate([g.reshape(-1) for g in grads])
    return flat if create_graph else flat.data


def fisher_vector_product(kl, params, damping: float = 0.1):
    """The function v ↦ (∇²KL) v + damping·v, with ∇² the Hessian of `kl` with respect to `params` (at
    θ = θ_old this Hessian is the Fisher information matrix, book §5.7).

    `kl` is the scalar KL(π_old ‖ π_θ) as a Tensor, or a function returning it; π_old must be held constant
    (detached). Its gradient is built once (with its graph kept); each call then costs one backward pass
    through that gradient. `v` and the result are flat arrays ordered as `parameters_to_vector(params)`."""
    params = list(params)
    kl = kl() if callable(kl) else kl
    grad_kl = flat_grad(kl, params, create_graph=True)  # ∇KL, itself differentiable

    def fvp(v):
        v_tensor = ad.as_tensor(_xp(grad_kl.data).asarray(v, dtype=grad_kl.dtype))
        hv = flat_grad((grad_kl * v_tensor).sum(), params, retain_graph=True)  # ∇((∇KL)ᵀv) = Hv
        return hv + damping * v

    return fvp
