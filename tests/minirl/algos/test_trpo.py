"""TRPO (book ch. 5.7, Algorithm 5.22): why a trust region (the sigmoid example), one update that keeps KL ≤ δ and
improves the surrogate, a line search that refuses a worse step, one fast learning run (the 5-seed targets are in
the slow suite), and bad settings refused by name. The Fisher-vector product and conjugate gradient are tested
against explicit matrices in tests/minirl/optim/test_conjugate_gradient.py."""

import logging

import numpy as np
import pytest

import autodiff as ad
import minirl.algos.trpo as trpo
from minirl.algos import TRPO
from minirl.distributions.categorical import Bernoulli
from minirl.optim.conjugate_gradient import parameters_to_vector


def kl_between_logits(a: float, b: float) -> float:
    return Bernoulli(ad.tensor(np.array([a]))).kl(Bernoulli(ad.tensor(np.array([b])))).item()


def test_equal_steps_in_parameter_space_are_not_equal_steps_in_policy_space():
    # §5.7: π = (σ(θ), 1 − σ(θ)); θ: 6 → 3 and θ: 1.5 → −1.5 are both steps of 3
    sigma = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    np.testing.assert_allclose([sigma(6), sigma(3), sigma(1.5), sigma(-1.5)],
                               [0.99753, 0.95257, 0.81757, 0.18243], atol=1e-5)
    kl = lambda p, q: p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))  # noqa: E731
    near_certain, even = kl_between_logits(6.0, 3.0), kl_between_logits(1.5, -1.5)  # KL(π_old ‖ π_new)
    assert near_certain == pytest.approx(kl(sigma(6), sigma(3)), rel=1e-9) == pytest.approx(0.0387, abs=1e-4)
    assert even == pytest.approx(kl(sigma(1.5), sigma(-1.5)), rel=1e-9) == pytest.approx(0.9528, abs=1e-4)
    assert even / near_certain > 20  # the same step moves one policy more than 20 times further than the other


def rollout_agent(**overrides):
    agent = TRPO("CartPole-v1", seed=0, num_envs=2, num_steps=256, **overrides)
    agent._begin()
    agent._collect_rollout(hooks=type("NoHooks", (), {"on_step": lambda *a: None, "on_episode": lambda *a: None})())
    return agent


def test_one_update_stays_in_the_trust_region_and_improves_the_surrogate():
    agent = rollout_agent(max_kl=0.01)
    before = parameters_to_vector(agent.actor_params)
    stats = agent._update_policy()
    assert stats["accepted"] and stats["surrogate_gain"] > 0
    assert 0 < stats["kl"] <= 0.01
    assert not np.array_equal(before, parameters_to_vector(agent.actor_params))


def test_the_line_search_refuses_a_step_that_lowers_the_surrogate(caplog, monkeypatch):
    agent = rollout_agent(backtrack_iters=3)
    params = agent.actor_params
    before = parameters_to_vector(params)
    flat = lambda: ad.tensor(np.float32(0.0))  # noqa: E731  (a surrogate that no step improves)
    assert agent._line_search(params, np.ones_like(before), flat, flat, 0.0) is None
    np.testing.assert_array_equal(parameters_to_vector(params), before)
    # a whole update whose direction points downhill: each of the K tries is refused, θ stays, and it is logged
    solve = trpo.conjugate_gradient
    monkeypatch.setattr(trpo, "conjugate_gradient", lambda *args, **kwargs: -solve(*args, **kwargs))
    with caplog.at_level(logging.INFO, logger="minirl.algos.trpo"):
        stats = agent._update_policy()
    assert stats == {"accepted": False} and agent.rejected_updates == 1
    assert "trpo: the policy keeps its parameters" in caplog.text
    np.testing.assert_array_equal(parameters_to_vector(params), before)


def test_a_policy_that_does_not_depend_on_its_parameters_is_refused_by_name():
    agent = rollout_agent()
    frozen = agent.policy.policy_head
    agent.policy.policy_head = lambda obs: ad.tensor(frozen(obs).numpy())  # the graph to θ cut: not differentiable
    agent.policy.distribution = lambda obs: agent.policy.distribution_from(agent.policy.policy_head(obs))
    with pytest.raises(ValueError, match="does not depend differentiably on its parameters"):
        agent._update_policy()


def test_trpo_learns_cartpole(tmp_path):
    agent = TRPO("CartPole-v1", seed=0).learn(50_000)
    assert agent.evaluate(20)["mean_return"] >= 400
    agent.save(tmp_path / "trpo.npz")
    assert TRPO.load(tmp_path / "trpo.npz").rejected_updates == agent.rejected_updates


def test_trpo_runs_a_gaussian_policy():
    agent = TRPO("Pendulum-v1", seed=0, num_steps=128).learn(512)
    assert agent.num_timesteps == 512 and agent.last_stats["accepted"] in (True, False)
    assert -2.0 <= float(agent.act(np.zeros(3, dtype=np.float32))[0]) <= 2.0


@pytest.mark.parametrize("setting,message", [
    ({"max_kl": 0.0}, r"trpo.max_kl: expected a value > 0.0, got 0.0"),
    ({"max_kl": -0.01}, r"trpo.max_kl: expected a value > 0.0, got -0.01"),
    ({"cg_damping": -0.1}, r"trpo.cg_damping: expected a value in \[0.0, inf\], got -0.1"),
    ({"cg_iters": 0}, r"trpo.cg_iters: expected a value in \[1, inf\], got 0"),
    ({"backtrack_coef": 1.0}, r"trpo.backtrack_coef: expected α < 1"),
])
def test_bad_settings_are_refused_by_name(setting, message):
    with pytest.raises(ValueError, match=message):
        TRPO("CartPole-v1", **setting)
