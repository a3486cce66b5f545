"""Errors a learner meets say what was expected and what came instead, naming the op and the shapes."""

import importlib.util

import numpy as np
import pytest

import autodiff as ad
from autodiff.function import Function


def leaf(values):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- shapes -----------------------------------------------------------------------------------------------
def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 4\) and \(5, 2\) are not aligned$"):
        leaf(np.ones((3, 4))) @ leaf(np.ones((5, 2)))


@pytest.mark.parametrize("shape_a, shape_b", [((3,), (4,)), ((3,), (4, 2)), ((2, 3), (4,)), ((2, 2, 3), (4,))])
def test_matmul_with_vectors_names_the_shapes_given(shape_a, shape_b):
    with pytest.raises(ValueError, match=rf"^matmul: shapes {shape_a} and {shape_b} are not aligned$".replace(
            "(", r"\(").replace(")", r"\)")):
        ad.matmul(leaf(np.ones(shape_a)), leaf(np.ones(shape_b)))


def test_matmul_of_a_0d_tensor():
    with pytest.raises(ValueError, match=r"matmul: operands must have at least one axis, got shapes \(\) and \(2,\)"):
        leaf(1.0) @ leaf([1.0, 2.0])


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                      (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
                                      (lambda a, b: a**b, "pow"), (ad.maximum, "maximum")])
def test_non_broadcastable_shapes_name_the_op_and_the_shapes(op, name):
    with pytest.raises(ValueError, match=rf"^{name}: .*\(input shapes \(2, 3\) and \(4,\)\)$"):
        op(leaf(np.ones((2, 3))), leaf(np.ones(4)))


def test_reshape_to_a_wrong_size():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape array of size 6 into shape \(4,\) "
                                         r"\(input shapes \(2, 3\)\)"):
        leaf(np.ones((2, 3))).reshape(4)


def test_reduction_axis_out_of_range():
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range for a tensor of rank 2"):
        leaf(np.ones((2, 3))).sum(axis=2)


def test_index_out_of_bounds():
    with pytest.raises(IndexError, match=r"getitem: index 5 is out of bounds .*\(input shapes \(3,\)\)"):
        leaf([1.0, 2.0, 3.0])[5]


def test_broadcast_to_an_incompatible_shape():
    with pytest.raises(ValueError, match=r"broadcastto: .*\(input shapes \(3,\)\)"):
        ad.broadcast_to(leaf([1.0, 2.0, 3.0]), (2, 4))


# -- devices ----------------------------------------------------------------------------------------------
class FakeCupyArray:
    """Stands in for a cupy.ndarray (CuPy cannot be installed here): NumPy refuses to compute with it, as it
    refuses real CuPy arrays, so an op mixing it with a NumPy array fails inside its forward."""

    __module__ = "cupy"
    __array_ufunc__ = None

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim

    def _refuse(self, other):
        raise TypeError(f"Unsupported type {type(other)}")

    __add__ = __radd__ = __mul__ = __rmul__ = __matmul__ = __rmatmul__ = _refuse


def on_fake_gpu(values):
    t = leaf(values)
    t.data = FakeCupyArray(np.asarray(values, dtype=np.float64))
    return t


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: b * a, lambda a, b: a @ b])
def test_mixing_devices_in_one_op_is_a_clear_error(op):
    cpu, gpu = leaf(np.ones((2, 2))), on_fake_gpu(np.ones((2, 2)))
    assert cpu.device == "cpu" and gpu.device == "cuda"
    with pytest.raises(TypeError, match=r"^(add|mul|matmul): inputs are on different devices \(numpy and cupy "
                                        r"arrays\); move them with .to\(device\) first$"):
        op(cpu, gpu)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
@pytest.mark.parametrize("make", [lambda: ad.tensor([1.0], device="cuda"), lambda: ad.zeros(2, device="cuda"),
                                  lambda: ad.tensor([1.0]).to("cuda"), lambda: ad.randn(2, device="cuda")])
def test_cuda_without_cupy_says_what_is_missing(make):
    with pytest.raises(ImportError, match=r"CuPy is required for device='cuda'.*pip install -e '\.\[gpu\]'"):
        make()


def test_unknown_device():
    with pytest.raises(ValueError, match=r"unknown device 'tpu'; expected 'cpu' or 'cuda'"):
        ad.tensor([1.0], device="tpu")


# -- backward -------------------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_needs_a_gradient():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(RuntimeError, match=r"backward: the gradient can be implied only for one-element outputs, "
                                           r"got shape \(2, 3\); pass grad="):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"backward: grad has shape \(3,\) but the output has shape \(2,\)"):
        y.backward(np.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"backward: the output \(shape \(\)\) does not require grad"):
        ad.tensor(np.ones(3)).sum().backward()


def test_second_backward_through_a_freed_graph():
    y = (leaf([1.0, 2.0]).exp() * 2).sum()
    y.backward()
    with pytest.raises(ad.GraphFreedError, match=r"graph a second time \(at a sum node\).*freed by the first "
                                                 r"backward; pass retain_graph=True to the first call"):
        y.backward()


class WrongShapeGrad(Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        return g.sum()  # a bug: the gradient must have x's shape


class WrongCount(Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        return g, g


def test_a_backward_rule_with_a_wrong_gradient_shape_is_named():
    with pytest.raises(RuntimeError, match=r"wrongshapegrad: backward produced a gradient of shape \(\) and dtype "
                                           r"float64 for an input of shape \(3,\) and dtype float64"):
        WrongShapeGrad.apply(leaf([1.0, 2.0, 3.0])).sum().backward()


def test_a_backward_rule_returning_too_many_gradients_is_named():
    with pytest.raises(RuntimeError, match=r"wrongcount: backward returned 2 gradients for 1 inputs"):
        WrongCount.apply(leaf([1.0])).sum().backward()


# -- dtypes -----------------------------------------------------------------------------------------------
NOT_FLOAT = r"only floating-point tensors can require gradients, got dtype int64"


def test_integer_tensor_cannot_require_grad_in_the_constructor():
    with pytest.raises(TypeError, match=rf"requires_grad=True: {NOT_FLOAT}"):
        ad.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match=NOT_FLOAT):
        ad.Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match=r"got dtype bool"):
        ad.tensor(np.array([True]), requires_grad=True)


def test_integer_tensor_cannot_require_grad_later():
    t = ad.tensor([1, 2, 3])
    with pytest.raises(TypeError, match=NOT_FLOAT):
        t.requires_grad_()
    with pytest.raises(TypeError, match=NOT_FLOAT):
        t.requires_grad = True
    assert not t.requires_grad
    assert ad.tensor([1.0, 2.0]).requires_grad_().requires_grad


def test_gradcheck_on_float32_inputs():
    with pytest.raises(ValueError, match=r"gradcheck: input 0 has dtype float32; finite differences need float64"):
        ad.gradcheck(ad.exp, [ad.tensor([1.0], requires_grad=True)])


def test_gradcheck_without_an_input_that_requires_grad():
    with pytest.raises(ValueError, match=r"gradcheck: no input has requires_grad=True"):
        ad.gradcheck(ad.exp, [ad.tensor([1.0], dtype=np.float64)])


# -- other misuse ---------------------------------------------------------------------------------------------
def test_in_place_assignment_to_a_tensor_that_requires_grad():
    t = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="in-place assignment to a tensor that requires grad"):
        t[0] = 5.0
    c = ad.tensor([1.0, 2.0])
    c[0] = 5.0
    assert c.data[0] == 5.0


def test_item_of_a_tensor_with_several_elements():
    with pytest.raises(ValueError, match=r"item: only one-element tensors can be converted to a Python scalar, "
                                         r"got shape \(2,\)"):
        leaf([1.0, 2.0]).item()


def test_concatenate_and_stack_of_nothing():
    with pytest.raises(ValueError, match="concatenate: expected at least one tensor, got none"):
        ad.concatenate([])
    with pytest.raises(ValueError, match="stack: expected at least one tensor, got none"):
        ad.stack([])
