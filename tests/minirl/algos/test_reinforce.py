"""REINFORCE (book ch. 5.2, Algorithm 5.18): the returns (5.1), the loss, the policy-gradient identities it rests
on (5.3)–(5.5), computed exactly by summing over the actions, compatible function approximation for stochastic
(2.173) and deterministic (2.174)–(2.176) policies, and one fast learning run (the 5-seed target is in the slow
suite)."""

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import REINFORCE
from minirl.algos.reinforce import reinforce_loss, rewards_to_go
from minirl.distributions import Categorical


def test_rewards_to_go_by_hand():
    np.testing.assert_allclose(rewards_to_go([1.0, 2.0, 3.0], 0.5), [2.75, 3.5, 3.0])        # (5.1)
    np.testing.assert_allclose(rewards_to_go([1.0, 2.0, 3.0], 0.5, tail=4.0), [3.25, 4.5, 5.0])  # cut by a time limit
    np.testing.assert_allclose(rewards_to_go([1.0, 2.0, 3.0], 0.5, reward_to_go=False), [2.75] * 3)  # G_0 (B.58)


def test_the_loss_is_minus_the_sum_of_log_probabilities_times_advantages_over_episodes():
    log_probs = ad.tensor(np.log(np.array([0.5, 0.25, 0.125], dtype=np.float32)), requires_grad=True)
    advantages = np.array([1.0, -2.0, 4.0])
    loss = reinforce_loss(log_probs, advantages, num_episodes=2)
    np.testing.assert_allclose(loss.item(), -(np.log(0.5) - 2 * np.log(0.25) + 4 * np.log(0.125)) / 2, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(log_probs.grad.numpy(), -advantages / 2)


def score_functions(logits):
    """∇_z log π(a) for every action a of a softmax policy with logits z, by autodiff: (|A|, |A|)."""
    rows = []
    for a in range(len(logits)):
        z = ad.tensor(logits, requires_grad=True)
        Categorical(z[None]).log_prob(np.array([a])).sum().backward()
        rows.append(z.grad.numpy())
    return np.array(rows)


def test_the_expected_score_is_zero_so_a_baseline_leaves_the_gradient_unbiased():
    logits = np.array([0.3, -1.2, 2.0, 0.1])
    probs = np.exp(logits) / np.exp(logits).sum()
    scores = score_functions(logits)
    np.testing.assert_allclose(probs @ scores, 0.0, atol=1e-12)  # E_a[∇ log π(a)] = 0 (EGLP)
    rewards, baseline = np.array([1.0, 5.0, 2.0, -3.0]), 1.7
    plain = probs @ (scores * rewards[:, None])
    with_baseline = probs @ (scores * (rewards - baseline)[:, None])
    np.testing.assert_allclose(with_baseline, plain, atol=1e-12)  # (5.4): the mean does not move


def test_a_baseline_near_the_mean_return_lowers_the_variance():
    logits = np.array([0.5, 0.0, -0.5])
    probs = np.exp(logits) / np.exp(logits).sum()
    scores, rewards = score_functions(logits), np.array([10.0, 11.0, 12.0])

    def total_variance(baseline):  # E‖g − E g‖² of g = ∇ log π(a) (r(a) − b), a ~ π, exactly
        g = scores * (rewards - baseline)[:, None]
        mean = probs @ g
        return float(probs @ ((g - mean) ** 2).sum(axis=1))

    assert total_variance(probs @ rewards) < 0.05 * total_variance(0.0)  # (5.5)


@pytest.mark.parametrize("switches", [{}, {"reward_to_go": False}, {"baseline": False}, {"normalize_advantages": False}])
def test_each_switch_trains_and_resumes_from_a_checkpoint(tmp_path, switches):
    agent = REINFORCE("CartPole-v1", seed=1, batch_episodes=2, **switches).learn(600)
    assert agent.num_timesteps == 600 and agent.last_stats["batch_steps"] >= 2
    agent.save(tmp_path / "reinforce.npz")
    loaded = REINFORCE.load(tmp_path / "reinforce.npz")
    obs = np.array([0.01, 0.02, -0.03, 0.04], dtype=np.float32)
    assert loaded.act(obs) == agent.act(obs)


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match=r"hidden: expected comma-separated positive layer sizes"):
        REINFORCE("CartPole-v1", hidden="0")
    with pytest.raises(ValueError, match=r"reinforce.batch_episodes: expected a value in \[1, inf\], got 0"):
        REINFORCE("CartPole-v1", batch_episodes=0)


def test_reinforce_with_a_baseline_learns_cartpole():
    assert REINFORCE("CartPole-v1", seed=0).learn(30_000).evaluate(20)["mean_return"] >= 475


def test_reward_to_go_and_the_whole_return_agree_in_expectation():
    """A two-step episode with a softmax policy per step: the estimators Σ_t ∇log π(a_t) G_0 (B.58) and
    Σ_t ∇log π(a_t) G_t (5.1) have the same mean, over every trajectory weighted by its probability, since
    a later action's score is uncorrelated with the rewards before it; the reward-to-go has less variance."""
    gamma, z0, z1 = 0.9, np.array([0.2, -0.4, 1.0]), np.array([-0.3, 0.8, 0.0])
    p0, p1 = (np.exp(z) / np.exp(z).sum() for z in (z0, z1))
    s0, s1 = score_functions(z0), score_functions(z1)
    r0, r1 = np.array([1.0, 3.0, -2.0]), np.array([4.0, 0.5, 2.0])
    whole, to_go, weights = [], [], []
    for a0 in range(3):
        for a1 in range(3):
            g0 = r0[a0] + gamma * r1[a1]
            whole.append(np.concatenate([s0[a0] * g0, s1[a1] * g0]))
            to_go.append(np.concatenate([s0[a0] * g0, s1[a1] * gamma * r1[a1]]))
            weights.append(p0[a0] * p1[a1])
    weights, whole, to_go = np.array(weights), np.array(whole), np.array(to_go)
    np.testing.assert_allclose(weights @ to_go, weights @ whole, atol=1e-12)

    def total_variance(g):
        return float(weights @ ((g - weights @ g) ** 2).sum(axis=1))

    assert total_variance(to_go) < total_variance(whole)


def test_a_gaussian_policy_and_episodes_cut_at_max_episode_steps():
    agent = REINFORCE("Pendulum-v1", seed=0, batch_episodes=2, max_episode_steps=50).learn(200)
    assert agent.num_episodes == 4 and agent.last_stats["batch_steps"] == 100  # 50-step episodes, two per batch
    assert -2.0 <= float(agent.act(np.zeros(3, dtype=np.float32))[0]) <= 2.0


def test_an_environment_without_a_time_limit_needs_max_episode_steps():
    from minirl.envs import make

    env = make("CartPole-v1").unwrapped  # no TimeLimit, no spec
    env.spec = None
    with pytest.raises(ValueError, match=r"reinforce.max_episode_steps: .* has no time limit"):
        REINFORCE(env)
    assert REINFORCE(env, max_episode_steps=100).max_episode_steps == 100


def test_a_compatible_critic_gives_the_exact_policy_gradient():
    """(2.173): with features φ(s, a) = ∇_θ log π(a|s) and w fitted by least squares to Q^π under π, the gradient
    E[∇ log π Q_w] equals the true E[∇ log π Q^π]; a critic fitted on other features does not. Three states
    with their own logits, a state distribution d(s), and Q^π(s, a) given; every expectation is a weighted sum."""
    rng = np.random.default_rng(3)
    d = np.array([0.5, 0.3, 0.2])
    logits, q = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)) * 5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    # θ = all 12 logits; the score of (s, a) is e_a − π(·|s) in state s's block, zero elsewhere
    phi = np.zeros((3, 4, 12))
    for s in range(3):
        phi[s, :, 4 * s:4 * s + 4] = score_functions(logits[s])
    weight = d[:, None] * probs                                  # the probability of (s, a) under d and π
    X, y, W = phi.reshape(12, 12), q.reshape(12), weight.reshape(12)
    true_gradient = (W * y) @ X                                  # E[∇ log π Q^π]
    w = np.linalg.lstsq(np.sqrt(W)[:, None] * X, np.sqrt(W) * y, rcond=None)[0]
    np.testing.assert_allclose((W * (X @ w)) @ X, true_gradient, atol=1e-10)  # compatible: exact (2.173)
    other = rng.normal(size=(12, 5))                             # a critic on features unrelated to the score
    v = np.linalg.lstsq(np.sqrt(W)[:, None] * other, np.sqrt(W) * y, rcond=None)[0]
    assert np.abs((W * (other @ v)) @ X - true_gradient).max() > 1e-3


def test_a_compatible_critic_gives_the_exact_deterministic_policy_gradient():
    """(2.174)–(2.176), the deterministic case (book L17221–17249; Silver et al. 2014): a critic whose action
    gradient at a = µ_θ(s) is ∇_θ µ_θ(s)ᵀ w (condition 1), such as Q_w(s, a) = (a − µ_θ(s))ᵀ ∇_θ µ_θ(s)ᵀ w + V(s),
    with w minimising MSE(θ, w) = E_s[εᵀε], ε(s) = ∇_a Q_w(s, a) − ∇_a Q^µ(s, a) at a = µ_θ(s) (condition 2; the
    text at L17229 prints Q_w in both terms, the second is Q^µ), gives exactly the deterministic policy gradient
    E_s[∇_θ µ_θ(s) ∇_a Q^µ(s, a)|a=µ_θ(s)] of Theorem 2.3 (2.151); the same critic on other features does not.

    A one-step problem, so that Q^µ = r is known in closed form: six states with features x(s) ∈ R³ under a fixed
    distribution d(s) (the book: on-policy ρ^µ or off-policy ρ^β alike, the same d in the fit and the gradient),
    actions in R², Q^µ(s, a) = −(a − a*(s))ᵀ H(s) (a − a*(s)), and µ_θ(s) = 2 tanh(Θ x(s)) with θ the six entries
    of Θ. ∇_θ µ_θ(s) (6 × 2: a column per action component) and the critics' ∇_a come from autodiff in float64."""
    rng = np.random.default_rng(5)
    d, x, best = rng.dirichlet(np.ones(6)), rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    root = rng.normal(size=(6, 2, 2))
    H = root @ root.transpose(0, 2, 1) + np.eye(2)               # positive definite: Q^µ is concave in a
    theta, value = rng.normal(size=(2, 3)) * 0.5, rng.normal(size=6)

    def policy_and_jacobian(s):
        theta_t = ad.tensor(theta, requires_grad=True)
        mu = 2 * ad.tanh(theta_t @ ad.tensor(x[s]))
        columns = [ad.grad(mu[j], theta_t, retain_graph=True)[0].numpy().reshape(-1) for j in range(2)]
        return mu.numpy(), np.stack(columns, axis=1)

    mus, jacobians = map(np.array, zip(*[policy_and_jacobian(s) for s in range(6)]))  # (6, 2), (6, 6, 2)
    dq = -2 * np.einsum("sij,sj->si", H, mus - best)             # ∇_a Q^µ(s, a) at a = µ_θ(s)

    def expected_over_states(action_gradients):                  # E_s[∇_θ µ_θ(s) g(s)]
        return np.einsum("s,spj,sj->p", d, jacobians, action_gradients)

    true_gradient = expected_over_states(dq)                     # (2.151)

    def objective(t):                                            # J(θ) = E_s[Q^µ(s, µ_θ(s))]
        gap = 2 * np.tanh(x @ t.reshape(2, 3).T) - best
        return d @ -np.einsum("si,sij,sj->s", gap, H, gap)

    steps = np.eye(6) * 1e-6                                     # Theorem 2.3 holds here: central differences
    numeric = [(objective(theta.reshape(-1) + e) - objective(theta.reshape(-1) - e)) / 2e-6 for e in steps]
    np.testing.assert_allclose(true_gradient, numeric, atol=1e-6)

    def critic_action_gradients(features, w):
        """∇_a Q(s, a) at a = µ_θ(s) for Q(s, a) = (a − µ_θ(s))ᵀ features(s)ᵀ w + V(s), per state."""
        rows = []
        for s in range(6):
            a = ad.tensor(mus[s], requires_grad=True)
            q = ((a - ad.tensor(mus[s])) * ad.tensor(features[s].T @ w)).sum() + value[s]
            rows.append(ad.grad(q, a)[0].numpy())
        return np.array(rows)

    def fit(features):
        """w minimising Σ_s d(s) ‖features(s)ᵀ w − ∇_a Q^µ(s, µ_θ(s))‖² (2.174): 12 equations, 6 unknowns."""
        X = (np.sqrt(d)[:, None, None] * features.transpose(0, 2, 1)).reshape(12, 6)
        return np.linalg.lstsq(X, (np.sqrt(d)[:, None] * dq).reshape(12), rcond=None)[0]

    compatible = critic_action_gradients(jacobians, fit(jacobians))
    error = compatible - dq                                      # ε(s; θ, w)
    assert d @ (error ** 2).sum(axis=1) > 1e-2                   # the critic does not fit ∇_a Q^µ itself...
    np.testing.assert_allclose(expected_over_states(error), 0.0, atol=1e-10)                 # (2.175)
    np.testing.assert_allclose(expected_over_states(compatible), true_gradient, atol=1e-10)  # ...yet (2.176)
    other = rng.normal(size=jacobians.shape)                     # features unrelated to ∇_θ µ_θ(s)
    biased = expected_over_states(critic_action_gradients(other, fit(other)))
    assert np.abs(biased - true_gradient).max() > 1e-3
