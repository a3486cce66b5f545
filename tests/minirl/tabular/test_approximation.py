"""Linear value-function approximation (book ch. 2.7.2, eqs. 2.85-2.94; Algorithm 2.11)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.envs import Env
from minirl.envs.spaces import Discrete
from minirl.tabular.approximation import (RBF, Fourier, OneHot, Polynomial, StateAggregation, TileCoding,
                                          gradient_mc_prediction, linear_value, semi_gradient_td0,
                                          semi_gradient_td_lambda)
from minirl.tabular.mc import mc_prediction
from minirl.tabular.td import td0_prediction, td_lambda


class JumpWalk(Env):
    """Sutton & Barto's Example 9.1, smaller: states 1..n, start in the middle, jump 1..k states left or
    right uniformly; leaving on the left ends the episode with -1, on the right with +1."""

    def __init__(self, n=5, k=1):
        self.n, self.k = n, k
        self.observation_space, self.action_space = Discrete(n + 2), Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = (self.n + 1) // 2
        return self.s, {}

    def step(self, action):
        jump = int(self.np_random.integers(1, self.k + 1)) * (1 if self.np_random.random() < 0.5 else -1)
        self.s = min(max(self.s + jump, 0), self.n + 1)
        reward = -1.0 if self.s == 0 else (1.0 if self.s == self.n + 1 else 0.0)
        return self.s, reward, reward != 0.0, False, {}

    def true_values(self):
        """v_π(1..n) from the linear Bellman equation v = Pv + r."""
        n, k, p = self.n, self.k, 1.0 / (2 * self.k)
        A, b = np.eye(n), np.zeros(n)
        for s in range(1, n + 1):
            for target in [s + j for j in range(-k, k + 1) if j != 0]:
                if target <= 0:
                    b[s - 1] -= p
                elif target > n:
                    b[s - 1] += p
                else:
                    A[s - 1, target - 1] -= p
        return np.linalg.solve(A, b)


POLICY = np.ones((7, 1))


@pytest.mark.parametrize("seed", [0, 1])
def test_one_hot_semi_gradient_td0_is_tabular_td0(seed):
    w = semi_gradient_td0(JumpWalk(), POLICY, OneHot(7), 200, alpha=0.1, gamma=0.9, seed=seed)
    assert np.array_equal(w, td0_prediction(JumpWalk(), POLICY, 200, alpha=0.1, gamma=0.9, seed=seed))


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_one_hot_semi_gradient_td_lambda_is_tabular_td_lambda(lam):
    w = semi_gradient_td_lambda(JumpWalk(), POLICY, OneHot(7), 200, lam, alpha=0.1, gamma=0.9, seed=3)
    V = td_lambda(JumpWalk(), POLICY, 200, lam, alpha=0.1, gamma=0.9, seed=3)
    assert np.allclose(w, V, atol=1e-12)


def test_one_hot_gradient_mc_is_every_visit_constant_alpha_mc():
    w = gradient_mc_prediction(JumpWalk(), POLICY, OneHot(7), 200, alpha=0.1, gamma=0.9, seed=4)
    V = mc_prediction(JumpWalk(), POLICY, 200, first_visit=False, alpha=0.1, gamma=0.9, seed=4)
    assert np.array_equal(w, V)


def test_feature_counts_follow_the_book():
    assert Polynomial(3, [0, 0], [1, 1]).num_features == 4**2  # (N + 1)^d
    assert Fourier(4, 0, 1).num_features == 5  # cos(iπs), i = 0..N
    assert Fourier(2, [0, 0, 0], [1, 1, 1]).num_features == 27
    assert TileCoding(8, 4, [0, 0], [1, 1]).num_features == 8 * 5 * 5
    assert RBF(5, [0, 0], [1, 1]).num_features == 25


@given(st.floats(-3, 7), st.floats(-3, 7))
def test_polynomial_and_fourier_features_are_the_books_formulas(x, y):
    s = np.clip(np.array([(x + 3) / 10, (y + 3) / 10]), 0, 1)  # the state scaled to [0, 1]^2
    poly = Polynomial(2, [-3, -3], [7, 7])
    expected = [s[0] ** i * s[1] ** j for i in range(3) for j in range(3)]  # Π_j s_j^{c_ij}
    assert np.allclose(poly([x, y]), expected)
    fourier = Fourier(2, [-3, -3], [7, 7])
    assert np.allclose(fourier([x, y]), [np.cos(np.pi * (i * s[0] + j * s[1])) for i in range(3) for j in range(3)])


@given(st.floats(0, 1), st.floats(0, 1))
def test_tile_coding_has_one_active_tile_per_tiling_and_generalises_locally(x, y):
    tiles = TileCoding(8, 5, [0, 0], [1, 1])
    phi = tiles([x, y])
    assert phi.sum() == 8 and set(np.unique(phi)) <= {0.0, 1.0}
    assert np.all(np.diff(tiles.active([x, y])) > 0)  # one tile in each tiling's block of indices
    near = tiles([min(x + 0.01, 1.0), y])
    assert phi @ near >= 6  # a nearby state shares most tiles
    far = tiles([(x + 0.5) % 1.0, y])
    assert phi @ far == 0  # half the box away: no tile in common (tiles are 0.2 wide)


@given(st.floats(0, 1))
def test_rbf_is_a_gaussian_bump_around_each_centre(x):
    rbf = RBF(5, 0, 1, sigma=0.1)
    phi = rbf(x)
    assert np.allclose(phi, np.exp(-(x - np.linspace(0, 1, 5)) ** 2 / (2 * 0.1**2)))
    assert phi.max() <= 1.0 and phi.max() >= np.exp(-(0.125**2) / 0.02)  # a centre within 1/8


def test_state_aggregation_groups_neighbours():
    agg = StateAggregation(10, 1, 100)
    assert agg(1).argmax() == agg(10).argmax() == 0 and agg(11).argmax() == 1 and agg(100).argmax() == 9


@pytest.mark.parametrize("features", [TileCoding(8, 8, 0, 1), Fourier(8, 0, 1), Polynomial(6, 0, 1), RBF(12, 0, 1)],
                         ids=["tile", "fourier", "polynomial", "rbf"])
def test_features_can_represent_a_smooth_value_function(features):
    """Least squares wᵀφ(s) ≈ v(s) for a smooth v: what the features can express at best."""
    s = np.linspace(0, 1, 200)
    v = np.sin(2 * np.pi * s) + s
    Phi = features.matrix(s)
    w = np.linalg.lstsq(Phi, v, rcond=None)[0]
    assert np.sqrt(np.mean((Phi @ w - v) ** 2)) < 0.05


def _tail_average(method, *args, last=1000, **kwargs):
    history = []
    method(*args, callback=lambda k, w: history.append(w.copy()), **kwargs)
    return np.mean(history[-last:], axis=0)


@pytest.mark.parametrize("features,alpha", [(TileCoding(4, 4, 1, 15), 0.01), (Fourier(3, 1, 15), 0.005)],
                         ids=["tile", "fourier"])
@pytest.mark.parametrize("method", ["gradient_mc", "td0", "td_lambda"])
def test_linear_prediction_learns_the_jump_walk_values(features, alpha, method):
    env = JumpWalk(15, 3)
    policy = lambda obs, rng: 0  # noqa: E731  (one action: the walk moves by itself)
    if method == "gradient_mc":
        w = _tail_average(gradient_mc_prediction, env, policy, features, 1500, alpha=alpha, seed=0)
    elif method == "td0":
        w = _tail_average(semi_gradient_td0, env, policy, features, 1500, alpha=alpha, seed=0)
    else:
        w = _tail_average(semi_gradient_td_lambda, env, policy, features, 1500, 0.8, alpha=alpha, seed=0)
    v = env.true_values()
    estimate = linear_value(w, features, range(1, 16))
    assert np.sqrt(np.mean((estimate - v) ** 2)) < 0.1
    assert np.sqrt(np.mean((0 * v - v) ** 2)) > 0.4  # (the bar is far below the error of knowing nothing)


def test_features_reject_states_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        Polynomial(2, [0, 0], [1, 1])([0.5, 0.5, 0.5])
