"""The DQN family's shared parts against their closed forms: dueling aggregation (4.13)–(4.14), noisy layers
(4.19), the categorical projection (4.21) and C51's loss (4.22), QR-DQN's quantiles and loss (4.24)–(4.26),
IS-weighted losses (4.16), exploration with the ε reached, and the switches' validation."""

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import get
from minirl.algos.c51 import C51, categorical_projection
from minirl.algos.dqn import DQN, regression_loss
from minirl.algos.q_networks import QNetwork, dueling_aggregate
from minirl.algos.qrdqn import QRDQN, quantile_midpoints
from minirl.algos.rainbow import Rainbow
from minirl.buffers import Batch
from minirl.envs import spaces
from minirl.nn import NoisyLinear
from minirl.nn.loss import huber_loss, mse_loss, quantile_huber_loss


# -- dueling (4.12)-(4.14) ------------------------------------------------------------------------------------
def test_dueling_mean_and_max_aggregation_closed_forms():
    values = np.array([[[2.0]], [[-1.0]]])                   # (B, 1, 1)
    advantages = np.array([[[1.0], [3.0], [-1.0]], [[0.0], [0.5], [2.5]]])  # (B, |A|, 1)
    mean = dueling_aggregate(values, advantages, "mean")
    np.testing.assert_allclose(mean[0, :, 0], [2 + 1 - 1, 2 + 3 - 1, 2 - 1 - 1])
    np.testing.assert_allclose(mean.mean(axis=1), values[:, 0])  # (4.14): V is the mean of Q over actions
    top = dueling_aggregate(values, advantages, "max")
    np.testing.assert_allclose(top.max(axis=1), values[:, 0])  # (4.13): V is the Q of the best action
    np.testing.assert_allclose(top[1, :, 0], [-1 - 2.5, -1 + 0.5 - 2.5, -1.0])
    with pytest.raises(ValueError, match="mean"):
        dueling_aggregate(values, advantages, "sum")


@pytest.mark.parametrize("atoms", [1, 5])
def test_dueling_q_network_shapes_and_identifiability(atoms):
    net = QNetwork(spaces.Box(-1, 1, (3,)), 4, (8,), rng=np.random.default_rng(0), num_atoms=atoms, dueling="mean")
    x = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
    out = net(x).numpy()
    assert out.shape == ((6, 4) if atoms == 1 else (6, 4, atoms))
    features = net.torso(x)
    values = net.value_head(features).numpy().reshape(6, 1, atoms)
    np.testing.assert_allclose(out.reshape(6, 4, atoms).mean(axis=1), values[:, 0], atol=1e-5)


# -- noisy nets (4.19) ------------------------------------------------------------------------------------------
def test_noisy_linear_is_mean_plus_scaled_factorised_noise():
    layer = NoisyLinear(3, 2, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    mu_w, sigma_w = layer.weight_mu.numpy(), layer.weight_sigma.numpy()
    mu_b, sigma_b = layer.bias_mu.numpy(), layer.bias_sigma.numpy()
    eps_w, eps_b = layer.weight_epsilon.numpy(), layer.bias_epsilon.numpy()
    np.testing.assert_allclose(eps_w, np.outer(eps_b, eps_w[0] / eps_b[0]), rtol=1e-5)  # ε_w = f(ε_out) f(ε_in)ᵀ
    np.testing.assert_allclose(sigma_w, 0.5 / np.sqrt(3))  # σ_0 / √p
    expected = x @ mu_w.T + mu_b + x @ (sigma_w * eps_w).T + sigma_b * eps_b  # (Wx + b) + ((W_n ⊙ ε_w)x + b_n ⊙ ε_b)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy(), x @ mu_w.T + mu_b, rtol=1e-5, atol=1e-6)
    layer.train()
    layer.reset_noise(np.random.default_rng(2))
    assert not np.allclose(layer.bias_epsilon.numpy(), eps_b)


def test_noisy_linear_gradients_match_finite_differences():
    layer = NoisyLinear(3, 2, dtype=np.float64, rng=np.random.default_rng(0))
    x = ad.tensor(np.random.default_rng(1).normal(size=(4, 3)))

    def loss(mu_w, sigma_w, mu_b, sigma_b):
        layer.weight_mu, layer.weight_sigma, layer.bias_mu, layer.bias_sigma = mu_w, sigma_w, mu_b, sigma_b
        return (layer(x) ** 2).sum()

    params = [layer.weight_mu, layer.weight_sigma, layer.bias_mu, layer.bias_sigma]
    assert ad.gradcheck(loss, params)


def test_noisy_network_explores_without_epsilon_and_evaluates_its_mean():
    agent = DQN("CartPole-v1", seed=0, noisy=True, learning_starts=50, buffer_size=200, batch_size=16,
                train_frequency=4, gradient_steps=1, hidden="16")
    assert agent.epsilon == 0.0
    agent.learn(120)
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    mean_q = agent.q_values(obs)
    assert np.array_equal(mean_q, agent.q_values(obs))            # the mean network is deterministic
    assert not np.allclose(agent.q_values(obs, noise=True), mean_q)


# -- C51 (4.20)-(4.23) -----------------------------------------------------------------------------------------
def test_categorical_projection_by_hand():
    support = np.array([0.0, 1.0, 2.0])
    # atoms r + γz = 0.5, 1.5, 2.5 → clipped to 2; probabilities 0.2, 0.3, 0.5
    m = categorical_projection([[0.2, 0.3, 0.5]], [0.5], [1.0], [False], support)
    np.testing.assert_allclose(m, [[0.1, 0.1 + 0.15, 0.15 + 0.5]])
    # termination: all the mass at r, split between the atoms around it
    m = categorical_projection([[0.2, 0.3, 0.5]], [1.25], [0.9], [True], support)
    np.testing.assert_allclose(m, [[0.0, 0.75, 0.25]])
    # an atom that lands exactly on the support keeps all its mass there (⌊b⌋ = ⌈b⌉)
    m = categorical_projection([[0.0, 1.0, 0.0]], [1.0], [1.0], [False], support)
    np.testing.assert_allclose(m, [[0.0, 0.0, 1.0]])


def test_categorical_projection_keeps_mass_and_the_mean_inside_the_support():
    rng = np.random.default_rng(0)
    support = np.linspace(-10, 10, 51)
    probs = rng.dirichlet(np.ones(51) * 0.3, size=32)
    rewards, gamma = rng.uniform(-0.5, 0.5, 32), 0.5  # r + γz stays inside [−10, 10]
    terminated = rng.random(32) < 0.3
    m = categorical_projection(probs, rewards, np.full(32, gamma), terminated, support)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    assert m.min() >= 0
    expected_mean = rewards + gamma * (1 - terminated) * (probs @ support)  # E[R + γZ], no clipping
    np.testing.assert_allclose(m @ support, expected_mean, atol=1e-9)


def _batch(agent, size=8, seed=0):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(size, 4)).astype(np.float32)
    return Batch(obs, rng.integers(0, 2, size), rng.normal(size=size).astype(np.float32),
                 rng.normal(size=(size, 4)).astype(np.float32), rng.random(size) < 0.3, np.zeros(size, bool),
                 np.full(size, 0.99, np.float32), np.arange(size), np.ones(size, np.float32))


def test_c51_loss_is_the_cross_entropy_to_the_projected_target_and_its_priority_the_kl():
    agent = C51("CartPole-v1", seed=0, hidden="16", v_min=-5.0, v_max=5.0, num_atoms=11, batch_size=8)
    batch = _batch(agent)
    loss, priorities = agent.td_loss(batch)
    with ad.no_grad():
        next_probs = ad.softmax(agent.target_network(batch.next_obs), axis=2).numpy()
        probs = ad.softmax(agent.q_network(batch.obs), axis=2).numpy()
    rows = np.arange(8)
    best = np.argmax(next_probs @ agent.support, axis=1)
    m = categorical_projection(next_probs[rows, best], batch.rewards, batch.discounts, batch.terminated, agent.support)
    p = probs[rows, batch.actions]
    np.testing.assert_allclose(loss.item(), np.mean(-np.sum(m * np.log(p), axis=1)), rtol=1e-5)
    kl = np.sum(np.where(m > 0, m * np.log(np.where(m > 0, m, 1) / p), 0.0), axis=1)
    np.testing.assert_allclose(priorities, kl, rtol=1e-4, atol=1e-6)
    assert np.all(priorities >= -1e-6)
    q = agent.q_values(batch.obs)
    np.testing.assert_allclose(q, probs @ agent.support, rtol=1e-5)  # Q = Σ z_i p_i


# -- QR-DQN (4.24)-(4.26) --------------------------------------------------------------------------------------
def test_quantile_midpoints_of_the_book():
    np.testing.assert_allclose(quantile_midpoints(4), [0.125, 0.375, 0.625, 0.875])


def test_qrdqn_loss_regresses_every_quantile_on_every_target_sample():
    agent = QRDQN("CartPole-v1", seed=0, hidden="16", num_quantiles=5, batch_size=8, double_q=True)
    batch = _batch(agent, seed=1)
    loss, priorities = agent.td_loss(batch)
    with ad.no_grad():
        next_target = agent.target_network(batch.next_obs).numpy()
        next_online = agent.q_network(batch.next_obs).numpy()
        quantiles = agent.q_network(batch.obs).numpy()
    rows = np.arange(8)
    best = np.argmax(next_online.mean(axis=2), axis=1)  # Double: the online network chooses
    targets = batch.rewards[:, None] + (0.99 * (1 - batch.terminated))[:, None] * next_target[rows, best]
    theta = quantiles[rows, batch.actions]
    tau = quantile_midpoints(5)
    u = targets[:, None, :] - theta[:, :, None]                          # (B, i, j)
    huber = np.where(np.abs(u) <= 1, 0.5 * u ** 2, np.abs(u) - 0.5)
    per = (np.abs(tau[None, :, None] - (u < 0)) * huber).mean(axis=2).sum(axis=1)
    np.testing.assert_allclose(priorities, per, rtol=1e-4)
    np.testing.assert_allclose(loss.item(), per.mean(), rtol=1e-4)
    np.testing.assert_allclose(agent.q_values(batch.obs), quantiles.mean(axis=2), rtol=1e-5)


# -- the loss and prioritized replay's IS weights (4.16) ---------------------------------------------------
@pytest.mark.parametrize("kind, elementwise", [("huber", huber_loss), ("mse", mse_loss)])
def test_regression_loss_weights_each_transition(kind, elementwise):
    rng = np.random.default_rng(0)
    q, y, w = (rng.normal(size=16) * 3).astype(np.float32), rng.normal(size=16).astype(np.float32), rng.random(16)
    plain = elementwise(ad.tensor(q), ad.tensor(y), reduction="none").numpy()
    np.testing.assert_allclose(regression_loss(kind, ad.tensor(q), ad.tensor(y)).item(), plain.mean(), rtol=1e-6)
    weighted = regression_loss(kind, ad.tensor(q), ad.tensor(y), w.astype(np.float32)).item()
    np.testing.assert_allclose(weighted, np.mean(w * plain), rtol=1e-5)
    if kind == "mse":
        np.testing.assert_allclose(plain, (q - y) ** 2, rtol=1e-5)


@pytest.mark.parametrize("replay", ["proportional", "rank"])
def test_prioritized_dqn_updates_priorities_with_td_errors_and_anneals_beta_to_one(replay):
    agent = DQN("CartPole-v1", seed=0, prioritized=replay, learning_starts=64, batch_size=16, buffer_size=500,
                train_frequency=2, gradient_steps=1, hidden="16")
    agent.learn(300)
    updates = (300 - 64) // 2
    assert agent.buffer.beta_steps == updates
    assert agent.buffer.sample_count >= updates - 1
    assert agent.buffer.beta == pytest.approx(1.0, abs=0.01)
    assert agent.buffer.max_priority > 1.0 or np.ptp(agent.buffer.sum_tree[np.arange(300)]) > 0


# -- acting -------------------------------------------------------------------------------------------------------
def test_stochastic_act_explores_with_the_epsilon_reached():
    agent = DQN("CartPole-v1", seed=0, learning_starts=100, exploration_fraction=0.5, exploration_final_eps=0.1,
                buffer_size=500, batch_size=16, hidden="16", train_frequency=4, gradient_steps=1)
    assert agent.epsilon == 1.0  # before training: the schedule's start
    obs = np.random.default_rng(0).normal(size=(2000, 4)).astype(np.float32)
    greedy = agent.act(obs)
    random_share = np.mean(agent.act(obs, deterministic=False) != greedy)
    assert random_share == pytest.approx(0.5, abs=0.05)  # ε = 1: uniform over 2 actions
    agent.learn(1000)
    assert agent.epsilon == pytest.approx(0.1)
    greedy = agent.act(obs)
    assert np.mean(agent.act(obs, deterministic=False) != greedy) == pytest.approx(0.05, abs=0.02)


# -- validation: clear errors before anything is written ----------------------------------------------------
@pytest.mark.parametrize("algo, overrides, name", [
    ("c51", {"loss": "mse"}, "c51.loss"),
    ("rainbow", {"loss": "huber"}, "rainbow.loss"),
    ("qrdqn", {"loss": "mse"}, "qrdqn.loss"),
    ("dqn", {"loss": "cross_entropy"}, "dqn.loss"),
    ("dqn", {"n_step": 0}, "dqn.n_step"),
    ("dqn", {"priority_alpha": 1.5}, "dqn.priority_alpha"),
    ("dqn", {"priority_beta": -0.1}, "dqn.priority_beta"),
    ("c51", {"v_min": 10.0, "v_max": 10.0}, "c51.v_min"),
    ("dqn", {"dueling": "sum"}, "dqn.dueling"),
    ("dqn", {"prioritized": "yes"}, "dqn.prioritized"),
    ("dqn", {"hidden": "64,x"}, "hidden"),
    ("dqn", {"learning_rate": float("nan")}, "dqn.learning_rate"),
    ("dqn", {"batch_size": 64, "buffer_size": 32}, "dqn.buffer_size"),
])
def test_bad_hyperparameters_are_refused_naming_them(algo, overrides, name, tmp_path):
    from minirl.runs import trainer

    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        get(algo)("CartPole-v1", **overrides)
    run_dir = tmp_path / "run"
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        trainer.train(algo, "CartPole-v1", 100, overrides=overrides, out=run_dir, progress=False)
    assert not run_dir.exists()


def test_dueling_on_a_continuous_action_space_is_refused():
    with pytest.raises(TypeError, match="Discrete action space.*dueling"):
        DQN("Pendulum-v1", dueling="mean")


# -- the family shares one loop ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [C51, QRDQN, Rainbow])
def test_distributional_agents_train_and_round_trip_their_checkpoints(cls, tmp_path):
    agent = cls("CartPole-v1", seed=0, learning_starts=64, buffer_size=400, batch_size=16, train_frequency=4,
                gradient_steps=1, hidden="16", target_update_interval=20, tau=1.0)
    agent.learn(300)
    assert np.isfinite(agent.last_loss)
    agent.save(tmp_path / "agent.npz")
    loaded = cls.load(tmp_path / "agent.npz")
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.q_values(obs), agent.q_values(obs))


def test_rainbow_turns_every_switch_on():
    hp = Rainbow("CartPole-v1").hp
    assert (hp["double_q"], hp["dueling"], hp["prioritized"], hp["n_step"], hp["noisy"]) == \
        (True, "mean", "proportional", 3, True)
    assert hp["loss"] == "cross_entropy" and hp["num_atoms"] == 51
