"""Every CuPy implementation in the registry against numpy_ref, on random, float32, broadcast, non-contiguous and
0-d inputs (DESIGN.md, kernels). Marked `gpu`: without CuPy and a GPU they are skipped with the reason from
tests/conftest.py. The implementations are listed after loading CuPy (they register when it loads), so each
registered ``cupy_*`` implementation of each op becomes one test case."""

import numpy as np
import pytest

import kernels
from kernels import registry


def _cupy_implementations():
    """(op, impl) for every registered cupy_* implementation, or [] with the reason there are none."""
    try:
        cupy = kernels.load_cupy()
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return [], "CuPy found no CUDA device"
    except Exception as exc:  # CuPy missing, no driver, or its implementations failed to load
        return [], f"CuPy is not usable here: {exc}"
    found = [(op, impl) for op in kernels.ops() for impl in kernels.available(op) if impl.startswith("cupy")]
    return found, "no cupy_* implementation is registered (kernels/cupy_impl.py is missing or registers none)"


IMPLEMENTATIONS, NONE_REASON = _cupy_implementations()
# with nothing to test, one placeholder case: tests/conftest.py skips it where there is no GPU (with its
# reason), and the test skips itself with NONE_REASON where there is a GPU but no cupy_* implementation
PARAMS = IMPLEMENTATIONS or [pytest.param(None, None, id="no-cupy-implementations")]


def _require_implementations(op=None):
    if op is None:
        pytest.skip(NONE_REASON)


# -- inputs: numpy arrays laid out on either backend ------------------------------------------------------------
def on(xp, a, layout="contiguous", shape=None):
    """`a` as an array of `xp` (numpy or cupy) in a layout: contiguous, strided (every other column of a wider
    array), transposed (a transposed contiguous array) or broadcast (zero strides, to `shape`)."""
    if layout == "strided":
        base = xp.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        base[..., ::2] = xp.asarray(a)
        return base[..., ::2]
    if layout == "transposed":
        return xp.asarray(np.ascontiguousarray(a.T)).T
    if layout == "broadcast":
        return xp.broadcast_to(xp.asarray(a), shape)
    return xp.array(a)  # a copy: the in-place kernels (adam, sgd) must not write into the shared inputs


def _cases(op):
    """(label, build) pairs; build(xp) returns (args, kwargs) for the op on backend xp."""
    rng = np.random.default_rng(0)

    def n(*shape, dtype=np.float64):
        return rng.standard_normal(shape).astype(dtype)

    if op == "matmul":
        a, b, c, d = n(3, 4), n(4, 5), n(2, 1, 3, 4), n(5, 4, 2)
        e, f = n(130, 70), n(70, 259)  # not multiples of any tile: the edge guards of the tiled kernel
        row, one = n(1, 4), n(1, 1)
        a32, b32 = n(3, 4, dtype=np.float32), n(4, 5, dtype=np.float32)
        return [("random", lambda xp: ((on(xp, a), on(xp, b)), {})),
                ("float32", lambda xp: ((on(xp, a32), on(xp, b32)), {})),
                ("broadcast batch", lambda xp: ((on(xp, c), on(xp, d)), {})),
                ("non-contiguous", lambda xp: ((on(xp, a, "transposed"), on(xp, b, "strided")), {})),
                ("zero strides", lambda xp: ((on(xp, row, "broadcast", (3, 4)), on(xp, b)), {})),
                ("tile edges", lambda xp: ((on(xp, e), on(xp, f)), {})),
                ("tile edges float32", lambda xp: ((on(xp, e.astype(np.float32)), on(xp, f.astype(np.float32))), {})),
                ("vector @ matrix", lambda xp: ((on(xp, a[0]), on(xp, b)), {})),
                ("matrix @ vector", lambda xp: ((on(xp, a), on(xp, b[:, 0])), {})),
                ("size 1", lambda xp: ((on(xp, one), on(xp, one.T)), {}))]
    if op in ("logsumexp", "softmax", "log_softmax"):
        x, x32, big, wide = n(4, 6), n(4, 6, dtype=np.float32), n(3, 5) * 1e4, n(3, 1000)
        cube, row = n(2, 5, 3), n(1, 6)
        extra = {"logsumexp": {"keepdims": True}}.get(op, {})
        cases = [("random", lambda xp: ((on(xp, x),), {"axis": -1})),
                 ("float32", lambda xp: ((on(xp, x32),), {"axis": 1})),
                 ("axis 0", lambda xp: ((on(xp, x),), {"axis": 0, **extra})),
                 ("large logits", lambda xp: ((on(xp, big),), {"axis": -1})),
                 ("wide rows", lambda xp: ((on(xp, wide),), {"axis": -1})),
                 ("3-d, middle axis", lambda xp: ((on(xp, cube),), {"axis": 1})),
                 ("non-contiguous", lambda xp: ((on(xp, x, "strided"),), {"axis": -1})),
                 ("broadcast", lambda xp: ((on(xp, row, "broadcast", (4, 6)),), {"axis": -1}))]
        if op == "logsumexp":
            masked = x.copy()
            masked[1] = -np.inf
            cases += [("0-d", lambda xp: ((on(xp, np.array(1.5)),), {"axis": None})),
                      ("all axes", lambda xp: ((on(xp, x),), {"axis": None})),
                      ("a row of -inf", lambda xp: ((on(xp, masked),), {"axis": -1}))]
        return cases
    if op in ("softmax_backward", "log_softmax_backward"):
        g, x = n(4, 6), n(4, 6)
        y = kernels.get(op.replace("_backward", ""), "numpy_ref")(x)
        return [("random", lambda xp: ((on(xp, g), on(xp, y)), {"axis": -1})),
                ("float32", lambda xp: ((on(xp, g.astype(np.float32)), on(xp, y.astype(np.float32))), {"axis": -1})),
                ("non-contiguous", lambda xp: ((on(xp, g, "strided"), on(xp, y, "strided")), {"axis": -1})),
                ("broadcast g", lambda xp: ((on(xp, g[:1], "broadcast", (4, 6)), on(xp, y)), {"axis": -1}))]
    if op == "softmax_cross_entropy":
        logits, targets = n(5, 4), rng.integers(0, 4, 5)
        wide, wide_targets = n(6, 700), rng.integers(0, 700, 6)
        return [("random", lambda xp: ((on(xp, logits), on(xp, targets)), {})),
                ("float32", lambda xp: ((on(xp, logits.astype(np.float32)), on(xp, targets)), {})),
                ("non-contiguous", lambda xp: ((on(xp, logits, "transposed"), on(xp, targets)), {})),
                ("wide rows", lambda xp: ((on(xp, wide), on(xp, wide_targets)), {}))]
    if op == "adam":
        p, g, m, v = n(7), n(7), n(7) * 0.1, np.abs(n(7)) * 0.1
        big = [n(4096), n(4096), n(4096) * 0.1, np.abs(n(4096)) * 0.1]  # float32 of a length divisible by 4: vectors
        def build(dtype, **kw):
            return lambda xp: ((on(xp, p.astype(dtype)), on(xp, g.astype(dtype)), on(xp, m.astype(dtype)),
                                on(xp, v.astype(dtype)), 3, 1e-2), kw)
        return [("adam", build(np.float64)), ("float32", build(np.float32)),
                ("l2", build(np.float64, weight_decay=0.1)), ("adamw", build(np.float64, weight_decay=0.1,
                                                                            decoupled=True)),
                ("non-contiguous grad", lambda xp: ((on(xp, p), on(xp, g, "strided"), on(xp, m), on(xp, v), 2,
                                                     1e-3), {})),
                ("float32 vectors", lambda xp: (tuple(on(xp, a.astype(np.float32)) for a in big) + (5, 1e-3),
                                                {"weight_decay": 0.01, "decoupled": True})),
                ("step on the device", lambda xp: ((on(xp, p), on(xp, g), on(xp, m), on(xp, v), on(xp, np.array(4.0)),
                                                    1e-2), {}))]
    if op == "sgd":
        p, g, buf = n(7), n(7), n(7)
        def build(dtype, **kw):
            return lambda xp: ((on(xp, p.astype(dtype)), on(xp, g.astype(dtype)), on(xp, buf.astype(dtype)), 0.1),
                               kw)
        return [("plain", build(np.float64)), ("float32 momentum", build(np.float32, momentum=0.9)),
                ("first step", build(np.float64, momentum=0.9, first=True)),
                ("nesterov", build(np.float64, momentum=0.9, nesterov=True, weight_decay=0.01)),
                ("dampening", build(np.float64, momentum=0.5, dampening=0.3))]
    if op == "kfac_factor":
        a, tall = n(8, 5), n(300, 70, dtype=np.float32)
        return [("random", lambda xp: ((on(xp, a),), {})),
                ("tile edges", lambda xp: ((on(xp, tall),), {})),
                ("float32", lambda xp: ((on(xp, a.astype(np.float32)),), {})),
                ("non-contiguous", lambda xp: ((on(xp, a, "strided"),), {}))]
    if op == "im2col":
        x = n(2, 3, 6, 5)
        return [("random", lambda xp: ((on(xp, x), 3, 2), {})),
                ("stride and padding", lambda xp: ((on(xp, x), 3, 3), {"stride": 2, "padding": 1})),
                ("float32", lambda xp: ((on(xp, x.astype(np.float32)), 2, 2), {"stride": 1, "padding": 2})),
                ("non-contiguous", lambda xp: ((on(xp, x, "strided"), 2, 3), {"stride": 2}))]
    if op == "col2im":
        shape = (2, 3, 6, 5)
        cols = kernels.get("im2col", "numpy_ref")(n(*shape), 3, 3, stride=2, padding=1)
        plain = kernels.get("im2col", "numpy_ref")(n(*shape), 2, 2)
        return [("random", lambda xp: ((on(xp, plain), shape, 2, 2), {})),
                ("stride and padding", lambda xp: ((on(xp, cols), shape, 3, 3), {"stride": 2, "padding": 1})),
                ("float32", lambda xp: ((on(xp, plain.astype(np.float32)), shape, 2, 2), {})),
                ("non-contiguous", lambda xp: ((on(xp, plain, "strided"), shape, 2, 2), {}))]
    if op == "dense_forward":
        h, w, b, edge_h, edge_w, edge_b = n(5, 3), n(4, 3), n(4), n(70, 40), n(33, 40), n(33)
        def build(activation, dtype=np.float64, layout="contiguous", bias=True, shapes=(h, w, b)):
            hh, ww, bb = (a.astype(dtype) for a in shapes)
            return lambda xp: ((on(xp, hh, layout), on(xp, ww, "transposed" if layout != "contiguous" else layout),
                                on(xp, bb) if bias else None, activation), {})
        return [(f"{activation}", build(activation)) for activation in (None, "tanh", "relu", "sigmoid")] + [
            ("float32 tanh", build("tanh", np.float32)), ("no bias", build("sigmoid", bias=False)),
            ("non-contiguous", build("tanh", layout="strided")),
            ("tile edges", build("relu", shapes=(edge_h, edge_w, edge_b))),
            ("tile edges float32", build("tanh", np.float32, shapes=(edge_h, edge_w, edge_b))),
            ("empty batch", build("tanh", shapes=(h[:0], w, b))),
            ("broadcast input", lambda xp: ((on(xp, h[:1], "broadcast", (5, 3)), on(xp, w), on(xp, b), "tanh"), {})),
            ("size 1", build("relu", shapes=(h[:1, :1], w[:1, :1], b[:1])))]
    if op == "dense_delta":
        delta, w, z = n(5, 4), n(4, 3), n(5, 3)
        edge_delta, edge_w, edge_z = n(70, 33), n(33, 40), n(70, 40)
        outputs = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}
        def build(activation, dtype=np.float64, layout="contiguous", shapes=(delta, w, z)):
            d, ww = (a.astype(dtype) for a in shapes[:2])
            y = outputs[activation](shapes[2]).astype(dtype) if activation else None
            return lambda xp: ((on(xp, d, layout), on(xp, ww), None if y is None else on(xp, y, layout), activation),
                               {})
        return [(f"{activation}", build(activation)) for activation in (None, "tanh", "relu", "sigmoid")] + [
            ("float32 tanh", build("tanh", np.float32)), ("non-contiguous", build("relu", layout="strided")),
            ("tile edges", build("tanh", shapes=(edge_delta, edge_w, edge_z))),
            ("tile edges float32", build("sigmoid", np.float32, shapes=(edge_delta, edge_w, edge_z)))]
    if op == "dense_param_grads":
        delta, h, edge_delta, edge_h = n(5, 4), n(5, 3), n(70, 33), n(70, 40)
        def build(weight=True, bias=True, dtype=np.float64, layout="contiguous", shapes=(delta, h)):
            d, hh = (a.astype(dtype) for a in shapes)
            return lambda xp: ((on(xp, d, layout), on(xp, hh, layout), weight, bias), {})
        return [("both", build()), ("weight only", build(bias=False)), ("bias only", build(weight=False)),
                ("float32", build(dtype=np.float32)), ("non-contiguous", build(layout="strided")),
                ("tile edges", build(shapes=(edge_delta, edge_h))),
                ("tile edges float32", build(dtype=np.float32, shapes=(edge_delta, edge_h))),
                ("empty batch", build(shapes=(delta[:0], h[:0])))]
    if op == "squared_error":
        x, y, long_x, long_y = n(64, 2), n(64, 2), n(3000), n(3000)
        return [("random", lambda xp: ((on(xp, x), on(xp, y), 1 / 128), {})),
                ("float32", lambda xp: ((on(xp, x.astype(np.float32)), on(xp, y.astype(np.float32)), 0.5), {})),
                ("non-contiguous", lambda xp: ((on(xp, x, "strided"), on(xp, y, "transposed"), 1.0), {})),
                ("longer than a block", lambda xp: ((on(xp, long_x), on(xp, long_y), 1 / 3000), {})),
                ("0-d", lambda xp: ((on(xp, np.array(1.5)), on(xp, np.array(-0.5)), 1.0), {}))]
    if op == "squared_error_backward":
        x, y = n(64, 2), n(64, 2)
        return [("random", lambda xp: ((on(xp, np.array(0.7)), on(xp, x), on(xp, y), 1 / 128), {})),
                ("float32", lambda xp: ((on(xp, np.array(2.0, np.float32)), on(xp, x.astype(np.float32)),
                                         on(xp, y.astype(np.float32)), 0.5), {})),
                ("non-contiguous", lambda xp: ((on(xp, np.array(1.0)), on(xp, x, "strided"), on(xp, y, "transposed"),
                                                1.0), {}))]
    if op == "gather_into":
        def build(shapes, dtype=np.float64, layout="contiguous"):
            arrays = [n(*shape).astype(dtype) for shape in shapes]
            def make(xp):
                flat = xp.zeros(sum(a.size for a in arrays), dtype=dtype)
                views, offset = [], 0
                for a in arrays:
                    views.append(flat[offset:offset + a.size].reshape(a.shape))
                    offset += a.size
                return (flat, views, [on(xp, a, layout) for a in arrays]), {}
            return make
        network = [(64, 4), (64,), (64, 64), (64,), (2, 64), (2,)]
        row, pair = n(1, 3), n(2)
        return [("a network's gradients", build(network)), ("float32", build(network, np.float32)),
                ("non-contiguous", build([(3, 4), (5, 2)], layout="strided")),
                ("more than one launch", build([(i % 7 + 1,) for i in range(40)])),
                ("broadcast", lambda xp: ((lambda flat: (flat, [flat[:6].reshape(2, 3), flat[6:]],
                                                         [on(xp, row, "broadcast", (2, 3)), on(xp, pair)]))(
                                              xp.zeros(8)), {})),
                ("size 1", build([(1,)]))]
    return []


def _assert_close(got, expected, what):
    if expected is None:  # a gradient not asked for
        assert got is None, f"{what}: got an array, numpy_ref gives None"
        return
    got = got.get() if hasattr(got, "get") and not isinstance(got, np.ndarray) else np.asarray(got)  # CuPy: to host
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, numpy_ref gives {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype}, numpy_ref gives {expected.dtype}"
    tight = expected.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-9 if tight else 1e-4, atol=1e-10 if tight else 1e-5,
                               err_msg=what)


@pytest.mark.gpu
@pytest.mark.parametrize("op, impl", PARAMS)
def test_cupy_implementation_matches_numpy_ref(op, impl):
    _require_implementations(op)
    import cupy

    compare_with_numpy_ref(op, impl, kernels.get(op, impl), cupy)


def compare_with_numpy_ref(op, impl, candidate, xp):
    """Run `candidate` (an implementation of `op` taking arrays of module `xp`) on every input of `_cases(op)`
    and compare with numpy_ref: its outputs, and its arguments after the call (in-place updates such as Adam's
    must agree too, and pure kernels must leave their inputs alone)."""
    cases = _cases(op)
    assert cases, f"no test inputs for op {op!r}: add them to _cases in {__file__}"
    reference = kernels.get(op, "numpy_ref")
    for label, build in cases:
        np_args, np_kwargs = build(np)
        args, kwargs = build(xp)
        with np.errstate(all="ignore"):  # the 0/0 of an all −inf row, as numpy_ref gives it
            expected = reference(*np_args, **np_kwargs)
        got = candidate(*args, **kwargs)
        what = f"{op} {impl} on {label} inputs"
        if isinstance(expected, tuple):
            assert isinstance(got, tuple) and len(got) == len(expected), what
            for i, (g, e) in enumerate(zip(got, expected)):
                _assert_close(g, e, f"{what}, output {i}")
        else:
            _assert_close(got, expected, what)
        for i, (g, e) in enumerate(zip(args, np_args)):
            if isinstance(e, np.ndarray) and e.flags.writeable:
                _assert_close(g, e, f"{what}, argument {i} after the call")


@pytest.mark.gpu
@pytest.mark.parametrize("op, impl", PARAMS)
def test_cupy_implementation_is_chosen_by_use_and_dispatched_for_cupy_arrays(op, impl):
    _require_implementations(op)
    import cupy

    with kernels.use(**{op: impl}):
        assert kernels.active(op, "cupy") == impl
        assert kernels.active(op, "numpy") == ("numpy_fast" if "numpy_fast" in kernels.available(op) else "numpy_ref")
        assert registry.backend_of(cupy.zeros(1)) == "cupy"
        label, build = _cases(op)[0]
        args, kwargs = build(cupy)
        got = getattr(kernels, op)(*args, **kwargs)
        expected = kernels.get(op, impl)(*build(cupy)[0], **kwargs)
        for g, e in zip(got if isinstance(got, tuple) else (got,), expected if isinstance(expected, tuple)
                        else (expected,)):
            if e is None:
                assert g is None
                continue
            assert isinstance(g, cupy.ndarray)
            np.testing.assert_array_equal(cupy.asnumpy(g), cupy.asnumpy(e))


@pytest.mark.gpu
def test_autodiff_on_cuda_matches_cpu():
    """autodiff's ops run the active kernels: on the GPU they need the cupy_* implementations."""
    if not IMPLEMENTATIONS:
        _require_implementations()
    import autodiff as ad

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    onehot = np.eye(5)[rng.integers(0, 5, 4)]
    grads = {}
    for device in ("cpu", "cuda"):
        xt = ad.tensor(x, requires_grad=True, device=device)
        wt = ad.tensor(w, requires_grad=True, device=device)
        log_p = ad.log_softmax(ad.tanh(xt @ wt), axis=-1)
        loss = -(log_p * ad.tensor(onehot, device=device)).sum(axis=1).mean()
        loss.backward()
        assert xt.grad.device == device
        grads[device] = (loss.item(), xt.grad.numpy(), wt.grad.numpy())
    for cpu, gpu in zip(grads["cpu"], grads["cuda"]):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-9, atol=1e-12)


def test_gpu_inputs_cover_every_op_and_run_on_numpy_ref():
    """Not a GPU test: it keeps the table above in step with the registry, so the GPU tests never rot unseen."""
    for op in kernels.ops():
        cases = _cases(op)
        assert cases, f"no GPU test inputs for op {op!r}"
        for label, build in cases:
            args, kwargs = build(np)
            first, second = build(np)[0], args
            for a, b in zip(first, second):  # each build makes fresh copies (adam and sgd write into theirs)
                if isinstance(a, np.ndarray) and a.flags.writeable and a.size:
                    assert not np.shares_memory(a, b), f"{op} {label}"
                if isinstance(a, np.ndarray):  # ... of the same values: the NumPy and CuPy builds must agree
                    np.testing.assert_array_equal(a, b, err_msg=f"{op} {label}: two builds differ")
            with np.errstate(divide="ignore"):  # the logsumexp row of −inf
                out = kernels.get(op, "numpy_ref")(*args, **kwargs)
            for o in out if isinstance(out, tuple) else (out,):
                assert o is None or not np.isnan(o).any(), f"{op} {label}"


@pytest.mark.gpu
def test_raw_kernels_copy_strided_inputs_and_refuse_strided_outputs():
    """A RawKernel indexes raw memory: strided inputs are copied first (the cases above check the values); an
    array it must update in place cannot be copied, so a strided one is a clear error, never a silent wrong."""
    import cupy

    if "cupy_raw" not in kernels.available("adam"):
        pytest.skip(NONE_REASON)
    base = cupy.zeros((4, 8), dtype=cupy.float32)
    strided, flat = base[:, ::2], cupy.zeros((4, 4), dtype=cupy.float32)
    with pytest.raises(ValueError, match="cupy_raw adam updates param in place and needs it C-contiguous"):
        kernels.get("adam", "cupy_raw")(strided, flat, flat.copy(), flat.copy(), 1, 1e-3)
    x = cupy.asarray(np.random.default_rng(0).standard_normal((6, 10)))[:, ::2]
    np.testing.assert_allclose(cupy.asnumpy(kernels.get("softmax", "cupy_raw")(x)),
                               kernels.get("softmax", "numpy_ref")(cupy.asnumpy(x)), rtol=1e-12)
