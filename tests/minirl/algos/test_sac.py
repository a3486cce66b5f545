"""SAC: the soft Bellman target by hand, the squashed Gaussian's density, the reparameterised gradient against the
likelihood-ratio one, the temperature's direction, bad inputs, the NaN guard, and short learning runs."""

import copy
import math

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import get
from minirl.algos.sac import (SAC, SquashedGaussianPolicy, StateDependentPolicy, soft_targets, soft_value_exact,
                              soft_value_sampled)
from minirl.buffers.replay import Batch
from minirl.distributions import TanhGaussian
from minirl.envs import spaces
from minirl.envs.classic_control.pendulum import PendulumEnv


def batch_of(obs, actions, rewards, next_obs, terminated, truncated, gamma=0.99):
    n = len(rewards)
    return Batch(np.asarray(obs, np.float32), np.asarray(actions), np.asarray(rewards, np.float32),
                 np.asarray(next_obs, np.float32), np.asarray(terminated, bool), np.asarray(truncated, bool),
                 np.full(n, gamma, np.float32), np.arange(n), np.ones(n, np.float32))


# -- the soft Bellman target (6.25) -------------------------------------------------------------------------------
def test_soft_target_by_hand_continuous_and_discrete():
    rewards, gamma, alpha = np.array([1.0, -2.0, 0.5]), np.full(3, 0.9), 0.2
    terminated = np.array([0.0, 1.0, 0.0])  # the third was truncated: it still bootstraps
    v = soft_value_sampled(np.array([3.0, 1.0, -1.0]), np.array([2.0, 4.0, -3.0]), np.array([-1.0, 0.5, 2.0]), alpha)
    np.testing.assert_allclose(v, [2.0 + 0.2, 1.0 - 0.1, -3.0 - 0.4])
    np.testing.assert_allclose(soft_targets(rewards, gamma, terminated, v), [1 + 0.9 * 2.2, -2.0, 0.5 - 0.9 * 3.4])
    # discrete: V̄(s') = Σ_a π(a|s')(min_i Q̃_i(s', a) − α log π(a|s')), here π = (1/4, 3/4)
    log_pi = np.log([[0.25, 0.75]])
    v = soft_value_exact(np.array([[1.0, 2.0]]), np.array([[3.0, 0.0]]), log_pi, alpha)
    np.testing.assert_allclose(v, [0.25 * (1 - 0.2 * math.log(0.25)) + 0.75 * (0 - 0.2 * math.log(0.75))])


def test_agents_soft_target_matches_the_networks_by_hand_continuous():
    agent = SAC("Pendulum-v1", seed=0, hidden="16,16", alpha=0.3)
    rng = np.random.default_rng(5)
    next_obs = rng.normal(size=(3, 3)).astype(np.float32)
    batch = batch_of(np.zeros((3, 3)), np.zeros((3, 1)), [1.0, 2.0, 3.0], next_obs, [False, True, False],
                     [False, False, True])
    noise = copy.deepcopy(agent.rng).standard_normal((3, 1)).astype(np.float32)  # the draw the agent will make
    y = agent.soft_target(batch, agent.alpha)
    head = agent.policy.net.infer(next_obs)
    mean, log_std = head[:, :1], np.clip(head[:, 1:], -20, 2)
    u = mean + np.exp(log_std) * noise
    a = 2.0 * np.tanh(u)  # Pendulum's bounds are ±2: c = 0, h = 2
    log_pi = (-0.5 * noise**2 - log_std - 0.5 * math.log(2 * math.pi) - np.log(1 - np.tanh(u) ** 2)
              - math.log(2.0)).sum(axis=1)
    with ad.no_grad():
        q = np.minimum(agent.q1_target(next_obs, a).numpy(), agent.q2_target(next_obs, a).numpy())
    v = q - 0.3 * log_pi
    np.testing.assert_allclose(y, [1 + 0.99 * v[0], 2.0, 3 + 0.99 * v[2]], rtol=1e-4, atol=1e-4)


def test_agents_soft_target_matches_the_networks_by_hand_discrete():
    agent = SAC("CartPole-v1", seed=0, hidden="16,16", alpha=0.5)
    next_obs = np.random.default_rng(6).normal(size=(3, 4)).astype(np.float32)
    batch = batch_of(np.zeros((3, 4)), [0, 1, 0], [1.0, 1.0, 1.0], next_obs, [True, False, False],
                     [False, True, False])
    y = agent.soft_target(batch, agent.alpha)
    logits = agent.policy.net.infer(next_obs).astype(np.float64)
    pi = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    q = np.minimum(agent.q1_target.infer(next_obs), agent.q2_target.infer(next_obs))
    v = (pi * (q - 0.5 * np.log(pi))).sum(axis=1)
    np.testing.assert_allclose(y, [1.0, 1 + 0.99 * v[1], 1 + 0.99 * v[2]], rtol=1e-5)


# -- the squashed Gaussian policy (6.27) --------------------------------------------------------------------------
def squashed_log_prob(policy, mean, log_std, actions):
    """log π(a|s) of the policy's formula for given μ and log σ (one state, a column of actions)."""
    dist = TanhGaussian(np.full_like(actions, mean), np.full_like(actions, log_std))
    unit = (actions - policy.center) / policy.half_range
    return dist.log_prob(unit, eps=0).numpy() - policy.log_scale


@pytest.mark.parametrize("mean,log_std", [(0.3, -0.5), (-0.8, 0.2)])
def test_squashed_density_integrates_to_one_and_is_the_change_of_variables(mean, log_std):
    policy = SquashedGaussianPolicy(spaces.Box(-1, 1, (3,)), spaces.Box(-2.0, 2.0, (1,)), (8,), "relu",
                                    np.random.default_rng(0))
    grid = np.linspace(-2, 2, 400_001)[1:-1, None]  # (low, high), the open interval
    density = np.exp(squashed_log_prob(policy, mean, log_std, grid))
    assert abs(np.trapezoid(density, grid[:, 0]) - 1) < 1e-4
    # the density is the derivative of the CDF P(A ≤ a) = Φ((atanh(a/2) − μ)/σ)
    sigma = math.exp(log_std)
    cdf = np.vectorize(lambda a: 0.5 * (1 + math.erf((math.atanh(a / 2) - mean) / (sigma * math.sqrt(2)))))
    a, h = np.array([-1.5, -0.3, 0.4, 1.7]), 1e-5
    np.testing.assert_allclose(np.exp(squashed_log_prob(policy, mean, log_std, a[:, None])),
                               (cdf(a + h) - cdf(a - h)) / (2 * h), rtol=1e-4)


def test_reparameterised_gradient_equals_the_likelihood_ratio_gradient_in_expectation():
    """∇_{μ, log σ} E[f(a)], a = tanh(u), u ~ N(μ, σ²), f(a) = (a − 0.5)², three ways: the pathwise (SVG(0))
    estimate, the likelihood-ratio estimate E[(f(a) − b) ∇ log π(a)] (b the sample mean, which adds a bias of
    order 1/n only), and Gauss–Hermite quadrature of the exact derivative. With 20 000 draws on a fixed seed the
    estimates must agree with the exact value within four of their own standard errors."""
    mu0, log_std0, n = 0.2, -0.4, 20_000
    sigma = math.exp(log_std0)
    mean = ad.tensor(np.full((n, 1), mu0), requires_grad=True)
    log_std = ad.tensor(np.full((n, 1), log_std0), requires_grad=True)
    a, _ = TanhGaussian(mean, log_std).rsample_and_log_prob(np.random.default_rng(0))
    f = (a - 0.5) ** 2
    pathwise = [g.numpy()[:, 0] * n for g in ad.grad(f.mean(), [mean, log_std])]  # per-sample gradients
    f_values = f.numpy()[:, 0]
    log_p = TanhGaussian(mean, log_std).log_prob(a.numpy(), eps=0)
    score = [g.numpy()[:, 0] * n for g in ad.grad(log_p.mean(), [mean, log_std])]
    ratio = [(f_values - f_values.mean()) * s for s in score]

    z, w = np.polynomial.hermite_e.hermegauss(80)  # E[g(Z)], Z ~ N(0, 1) = Σ w g(z) / √(2π)
    u = mu0 + sigma * z
    df_du = 2 * (np.tanh(u) - 0.5) * (1 - np.tanh(u) ** 2)
    exact = [w @ df_du / math.sqrt(2 * math.pi), w @ (df_du * sigma * z) / math.sqrt(2 * math.pi)]
    for path_samples, ratio_samples, truth in zip(pathwise, ratio, exact):
        for samples in path_samples, ratio_samples:
            assert abs(samples.mean() - truth) < 4 * samples.std() / math.sqrt(n), (samples.mean(), truth)


# -- gSDE: state-dependent exploration ---------------------------------------------------------------------------
def sde_policy(seed=0):
    return StateDependentPolicy(spaces.Box(-1, 1, (3,)), spaces.Box(-2.0, 2.0, (2,)), (8, 6), "relu",
                                np.random.default_rng(seed), log_std_init=-0.5)


def test_state_dependent_noise_has_the_variance_its_log_density_uses():
    """u = μ(s) + z(s)ᵀθ_ε with θ_jk ~ N(0, σ_jk²): over many draws of θ_ε, u has mean μ(s) and variance
    Σ_j z_j² σ_jk², and log π is the change of variables of that Gaussian through a = c + h tanh(u)."""
    policy, rng = sde_policy(), np.random.default_rng(1)
    obs = ad.tensor(np.array([[0.5, -0.2, 0.9]], np.float32))
    z = policy.trunk.infer(obs.numpy()).astype(np.float64)[0]
    mean = np.clip(policy.mean.infer(z[None].astype(np.float32))[0], -2, 2)
    sigma = np.exp(policy.log_std.data.astype(np.float64))
    variance = (z**2) @ sigma**2
    draws = []
    for _ in range(4000):
        policy.resample(rng)
        draws.append(np.arctanh(policy.act(policy.head(obs.numpy()), rng)[0] / 2))
    draws = np.array(draws)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * np.sqrt(variance / 4000))
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.1)
    action, log_prob = policy.rsample(obs, np.random.default_rng(2))
    u = np.arctanh(action.numpy()[0].astype(np.float64) / 2)
    by_hand = (-0.5 * (u - mean) ** 2 / (variance + 1e-6) - 0.5 * np.log(2 * np.pi * (variance + 1e-6))
               - np.log(1 - np.tanh(u) ** 2) - np.log(2.0)).sum()
    np.testing.assert_allclose(log_prob.numpy()[0], by_hand, rtol=1e-3)


def test_state_dependent_noise_holds_within_a_round_and_is_saved():
    policy, rng = sde_policy(), np.random.default_rng(3)
    obs = np.array([[0.1, 0.2, 0.3]], np.float32)
    policy.resample(rng)
    first = policy.act(policy.head(obs), rng)
    np.testing.assert_array_equal(policy.act(policy.head(obs), rng), first)  # the same push for the same state
    assert "exploration_matrix" in policy.state_dict()
    policy.resample(rng)
    assert not np.array_equal(policy.act(policy.head(obs), rng), first)
    log_std_grad = policy.rsample(ad.tensor(obs), rng)[1].sum()
    log_std_grad.backward()
    assert policy.log_std.grad is not None and np.abs(policy.log_std.grad.numpy()).sum() > 0


def test_state_dependent_exploration_is_refused_for_discrete_actions():
    with pytest.raises(ValueError, match="sac.sde: state-dependent exploration perturbs continuous actions"):
        SAC("CartPole-v1", sde=True)


# -- the temperature (6.29) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ["Pendulum-v1", "CartPole-v1"])
def test_alpha_falls_while_the_entropy_is_above_kappa_and_rises_while_below(env_id):
    for kappa, direction in ((-20.0, -1), (20.0, 1)):  # far below / above any entropy these policies can have
        agent = SAC(env_id, seed=0, hidden="16,16", learning_starts=200, batch_size=32, learning_rate=1e-2,
                    target_entropy=kappa)
        agent.learn(200)  # random play fills the memory
        alphas = []
        for _ in range(5):
            alphas.append(agent._train_step()["alpha"])
        assert np.all(direction * np.diff(alphas) > 0), alphas


def test_temperature_loss_gradient_is_entropy_minus_kappa():
    agent = SAC("Pendulum-v1", seed=0, hidden="8,8")
    assert agent.target_entropy == -1.0  # κ = −dim(A)
    (grad,) = ad.grad(agent.temperature_loss(0.7), [agent.log_alpha])
    np.testing.assert_allclose(grad.numpy(), [0.7 + 1.0])
    assert SAC("CartPole-v1", seed=0, hidden="8,8", target_entropy_ratio=0.5).target_entropy == \
        pytest.approx(0.5 * math.log(2))


# -- bad inputs and the NaN guard ---------------------------------------------------------------------------------
class UnboundedPendulum(PendulumEnv):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.action_space = spaces.Box(-np.inf, np.inf, (1,), np.float32)


@pytest.mark.parametrize("overrides,match", [({"tau": 0.0}, r"sac\.tau: expected a value in \(0.0, 1.0\]"),
                                             ({"tau": 1.5}, r"sac\.tau"),
                                             ({"alpha": -0.1, "autotune": False}, r"sac\.alpha"),
                                             ({"alpha": 0.0}, r"sac\.alpha: autotune learns log α"),
                                             ({"hidden": "0"}, "hidden")])
def test_bad_hyperparameters_are_refused_by_name(overrides, match):
    with pytest.raises(ValueError, match=match):
        SAC("Pendulum-v1", **overrides)


def test_unbounded_action_space_is_refused():
    with pytest.raises(ValueError, match="sac: squashes its actions into the bounds"):
        SAC(UnboundedPendulum)


def test_a_fixed_alpha_of_zero_is_plain_soft_free_learning():
    agent = SAC("Pendulum-v1", seed=0, hidden="8,8", alpha=0.0, autotune=False, learning_starts=50, batch_size=16)
    agent.learn(80)
    assert agent.alpha == 0.0 and np.isfinite(agent.last_losses["critic_loss"])


def test_nan_in_the_actor_is_refused_naming_the_step_and_the_network():
    agent = SAC("Pendulum-v1", seed=0, hidden="8,8", learning_starts=30, batch_size=16)
    agent.learn(40)
    next(iter(agent.policy.parameters())).data[...] = np.nan
    with pytest.raises(FloatingPointError, match="actor.*at step 40"):
        agent.learn(60)


def test_checkpoint_round_trip(tmp_path):
    agent = SAC("Pendulum-v1", seed=0, hidden="8,8", learning_starts=30, batch_size=16).learn(60)
    agent.save(tmp_path / "sac.npz")
    loaded = SAC.load(tmp_path / "sac.npz")
    obs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    assert loaded.alpha == agent.alpha and len(loaded.buffer) == len(agent.buffer)


# -- learning -----------------------------------------------------------------------------------------------------
def test_pendulum_is_learned_in_a_short_run_on_seed_0():
    """Pendulum's table after 5k steps (of its 10k): the final policy must swing up and hold (random play scores
    about −1200). The targets on five seeds are in the slow suite."""
    agent = get("sac")("Pendulum-v1", seed=0).learn(5000)
    result = agent.evaluate(20)
    assert result["mean_return"] >= -400, result["returns"]


def test_discrete_sac_learns_cartpole_in_a_short_run_on_seed_0():
    """CartPole's table after 8k steps (of its 50k): far better than chance (about 22)."""
    agent = get("sac")("CartPole-v1", seed=0).learn(8000)
    result = agent.evaluate(20)
    assert result["mean_return"] >= 150, result["returns"]
