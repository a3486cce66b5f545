"""kernels: array-level implementations of the hot primitives, per backend, in a registry.

The lowest layer of minirl (``minirl -> autodiff -> kernels``): it knows arrays, never Tensors.
Each op has a `numpy_ref` implementation (the oracle) and, on the GPU, CuPy implementations that can be
swapped at run time to study performance:

    import kernels
    kernels.available("softmax")                 # the implementations of an op
    kernels.use(softmax="cupy_fused")            # choose one (also a context manager)
    kernels.softmax(x, axis=-1)                  # runs the active implementation for x's backend

``MINIRL_KERNELS="op=impl,..."`` makes choices before the program starts.
"""

from kernels import numpy_ref as _numpy_ref  # noqa: F401  (registers the numpy_ref implementations)
from kernels import numpy_fast as _numpy_fast  # noqa: F401  (and the faster in-place optimizer updates)
from kernels import threads
from kernels.registry import (
    active,
    apply_env,
    array_module,
    available,
    backend_of,
    dispatcher,
    get,
    load_cupy,
    ops,
    parse_env,
    register,
    require_contiguous,
    resolve,
    use,
)

matmul = dispatcher("matmul")
logsumexp = dispatcher("logsumexp")
softmax = dispatcher("softmax")
softmax_backward = dispatcher("softmax_backward")
log_softmax = dispatcher("log_softmax")
log_softmax_backward = dispatcher("log_softmax_backward")
softmax_cross_entropy = dispatcher("softmax_cross_entropy")
adam = dispatcher("adam")
sgd = dispatcher("sgd")
kfac_factor = dispatcher("kfac_factor")
im2col = dispatcher("im2col")
col2im = dispatcher("col2im")
dense_forward = dispatcher("dense_forward")
dense_delta = dispatcher("dense_delta")
dense_param_grads = dispatcher("dense_param_grads")
squared_error = dispatcher("squared_error")
squared_error_backward = dispatcher("squared_error_backward")
gather_into = dispatcher("gather_into")

apply_env()
threads.apply_env()

__all__ = [
    "active", "array_module", "available", "backend_of", "dispatcher", "get", "load_cupy", "ops", "parse_env",
    "register", "require_contiguous", "resolve", "use", "matmul", "logsumexp", "softmax", "softmax_backward",
    "log_softmax", "log_softmax_backward", "softmax_cross_entropy", "adam", "sgd", "kfac_factor", "im2col", "col2im",
    "dense_forward", "dense_delta", "dense_param_grads", "squared_error", "squared_error_backward", "gather_into",
]
