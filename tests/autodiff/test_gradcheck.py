"""gradcheck and gradgradcheck themselves: they pass right rules, catch wrong ones (in both the full-Jacobian
and the random-direction mode), leave their inputs as they found them, and the helpers the other files rely
on (non-contiguous leaves) do what they say."""

import numpy as np
import pytest
from hypothesis import given

import autodiff as ad
from autodiff.function import Function
from autodiff_strategies import LAYOUTS, arrays, layouts, make_leaf, shapes


class SquareWrongBackward(Function):
    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.args
        return g * x  # a bug: should be 2x


class SquareNotTwiceDifferentiable(Function):
    def forward(self, x):
        return x * x

    def backward(self, g):
        return g * (2 * self.inputs[0].data)  # right once, but reads raw data: no second derivative recorded


class SquareRight(Function):
    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.args
        return g * (2 * x)


def leaf(shape, seed=0):
    return ad.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("shape", [(3,), (30, 30)], ids=["full-jacobian", "random-directions"])
def test_gradcheck_passes_a_right_rule_and_catches_a_wrong_one(shape):
    x = leaf(shape)
    assert ad.gradcheck(SquareRight.apply, [x])
    with pytest.raises(ad.GradcheckError, match="gradcheck: (Jacobian mismatch for input 0|directional)"):
        ad.gradcheck(SquareWrongBackward.apply, [x])
    assert ad.gradcheck(SquareWrongBackward.apply, [x], raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = leaf((3,))
    assert ad.gradcheck(SquareNotTwiceDifferentiable.apply, [x])  # first derivatives are right
    assert ad.gradgradcheck(SquareRight.apply, [x])
    with pytest.raises(ad.GradcheckError):
        ad.gradgradcheck(SquareNotTwiceDifferentiable.apply, [x])


def test_gradcheck_reports_the_input_and_element():
    x, y = leaf((2,)), leaf((2, 2), seed=1)
    with pytest.raises(ad.GradcheckError, match=r"input 1 \(shape \(2, 2\)\) at element \(0, 0\)"):
        ad.gradcheck(lambda a, b: a.sum() + SquareWrongBackward.apply(b), [x, y])


def test_gradcheck_passes_other_arguments_through_and_checks_only_what_requires_grad():
    x = leaf((3,))
    constant = ad.tensor(np.array([1.0, 2.0, 3.0]))
    assert ad.gradcheck(lambda a, c, k: (a * c) ** k, [x, constant, 2])


@given(x=arrays(shapes(max_dims=3)), layout=layouts)
def test_gradcheck_restores_its_inputs_exactly(x, layout):
    t = make_leaf(x, layout)
    base = t.data.base
    ad.gradcheck(lambda a: ad.tanh(a) * 3, [t])
    np.testing.assert_array_equal(t.data, x)
    assert t.data.base is base  # still the same (non-contiguous) view, not a replacement


@pytest.mark.parametrize("layout", LAYOUTS)
def test_make_leaf_builds_the_layout_it_names(layout):
    x = np.arange(12.0).reshape(3, 4)
    t = make_leaf(x, layout)
    np.testing.assert_array_equal(t.data, x)
    assert t.requires_grad and t.is_leaf
    assert t.data.flags.c_contiguous == (layout == "contiguous")
    if layout == "reversed":
        assert t.data.strides[0] < 0
    ad.exp(t).sum().backward()
    np.testing.assert_allclose(t.grad.data, np.exp(x))
    assert t.grad.shape == x.shape


def test_gradgradcheck_catches_a_wrong_recorded_backward_rule():
    """A rule whose create_graph branch is 1% off agrees with its own finite differences; gradgradcheck
    must still catch it by comparing it with the plain backward pass."""
    import numpy as np

    import autodiff as ad
    from autodiff.function import Function

    class SquareWithBadGraphRule(Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            (x,) = self.args
            return g * 2 * x * (1.01 if self.graph else 1.0)

    x = ad.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    assert ad.gradcheck(SquareWithBadGraphRule.apply, [x])
    with pytest.raises(ad.GradcheckError, match="differs between the recorded"):
        ad.gradgradcheck(SquareWithBadGraphRule.apply, [x])
