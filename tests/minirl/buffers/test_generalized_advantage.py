"""GAE(γ, λ) against its definition A_t = Σ_l (γλ)^l δ_{t+l} within the episode, and its λ = 0, 1 limits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minirl.buffers import gae


@st.composite
def rollouts(draw):
    steps, num_envs = draw(st.integers(1, 10)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    # end flags: every combination, including truncation and termination in the middle of a rollout
    flags = draw(st.lists(st.sampled_from(["", "", "", "term", "trunc", "both"]),
                          min_size=steps * num_envs, max_size=steps * num_envs))
    rng = np.random.default_rng(seed)
    shape = (steps, num_envs)
    return dict(rewards=rng.normal(size=shape), values=rng.normal(size=shape), next_values=rng.normal(size=shape),
                terminated=np.array([f in ("term", "both") for f in flags]).reshape(shape),
                truncated=np.array([f in ("trunc", "both") for f in flags]).reshape(shape))


def td_error(data, gamma, t, e):
    """δ_t = r_t + γ V(s_{t+1}) (1 − terminated_t) − V(s_t), element by element."""
    bootstrap = 0.0 if data["terminated"][t, e] else gamma * data["next_values"][t, e]
    return data["rewards"][t, e] + bootstrap - data["values"][t, e]


def episode_steps_from(data, t, e):
    """t, t+1, ... up to the step that ends t's episode or the rollout's last step."""
    steps = []
    for k in range(t, len(data["rewards"])):
        steps.append(k)
        if data["terminated"][k, e] or data["truncated"][k, e]:
            break
    return steps


def brute_force_gae(data, gamma, lam):
    advantages = np.zeros_like(data["rewards"])
    for t, e in np.ndindex(*advantages.shape):
        advantages[t, e] = sum((gamma * lam) ** (k - t) * td_error(data, gamma, k, e)
                               for k in episode_steps_from(data, t, e))
    return advantages


@given(rollouts(), st.floats(0, 1), st.floats(0, 1))
def test_gae_equals_the_sum_of_discounted_td_errors_within_the_episode(data, gamma, lam):
    np.testing.assert_allclose(gae(**data, gamma=gamma, lam=lam), brute_force_gae(data, gamma, lam),
                               rtol=1e-10, atol=1e-10)


@given(rollouts(), st.floats(0, 1))
def test_lambda_one_gives_bootstrapped_discounted_return_minus_value(data, gamma):
    # the sum of TD errors telescopes only when V(s_{t+1}) in δ_t is V(s_{t+1}) in δ_{t+1}, as in a real rollout:
    # inside an episode the next value is the next step's value
    done = data["terminated"] | data["truncated"]
    data["next_values"][:-1] = np.where(done[:-1], data["next_values"][:-1], data["values"][1:])
    expected = np.zeros_like(data["rewards"])
    for t, e in np.ndindex(*expected.shape):
        steps = episode_steps_from(data, t, e)
        last = steps[-1]
        discounted_return = sum(gamma ** (k - t) * data["rewards"][k, e] for k in steps)
        # past the last step: nothing after a termination, else V of the next (or true final) observation
        bootstrap = 0.0 if data["terminated"][last, e] else data["next_values"][last, e]
        expected[t, e] = discounted_return + gamma ** len(steps) * bootstrap - data["values"][t, e]
    np.testing.assert_allclose(gae(**data, gamma=gamma, lam=1.0), expected, rtol=1e-10, atol=1e-10)


@given(rollouts(), st.floats(0, 1))
def test_lambda_zero_gives_the_td_errors(data, gamma):
    deltas = np.array([[td_error(data, gamma, t, e) for e in range(data["rewards"].shape[1])]
                       for t in range(len(data["rewards"]))])
    np.testing.assert_allclose(gae(**data, gamma=gamma, lam=0.0), deltas, rtol=1e-12, atol=1e-12)


@given(rollouts(), st.floats(0, 1), st.floats(0, 1))
def test_environments_are_independent(data, gamma, lam):
    together = gae(**data, gamma=gamma, lam=lam)
    for e in range(data["rewards"].shape[1]):
        alone = gae(**{k: v[:, e:e + 1] for k, v in data.items()}, gamma=gamma, lam=lam)
        np.testing.assert_allclose(together[:, e:e + 1], alone, rtol=1e-12, atol=1e-12)


def test_truncation_bootstraps_and_stops_the_recursion():
    # one env, truncated at t = 1 with V(final observation) = 10; γ = 0.9, λ = 0.5
    advantages = gae(rewards=[[0.0], [1.0], [0.0]], values=[[1.0], [2.0], [3.0]],
                     next_values=[[2.0], [10.0], [4.0]], terminated=[[False]] * 3,
                     truncated=[[False], [True], [False]], gamma=0.9, lam=0.5)
    a2 = 0.0 + 0.9 * 4.0 - 3.0     # δ_2, the next episode's step
    a1 = 1.0 + 0.9 * 10.0 - 2.0    # δ_1 bootstraps from the final observation, A_2 is not added
    a0 = (0.0 + 0.9 * 2.0 - 1.0) + 0.9 * 0.5 * a1
    np.testing.assert_allclose(advantages[:, 0], [a0, a1, a2])


def test_mismatched_shapes_are_reported():
    with pytest.raises(ValueError, match=r"values has shape \(3, 2\), rewards has \(3, 1\)"):
        gae(np.zeros((3, 1)), np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 1), bool), np.zeros((3, 1), bool),
            0.9, 0.9)
