"""PPO, A2C and DQN on PyTorch + Gymnasium, written the way the popular single-file implementations are, with
the same settings as ours: the reference our speed is measured against, in the same run. Benchmarks only:
nothing in the packages imports PyTorch.
"""

from __future__ import annotations

import time

import numpy as np


def _measured(steps, start, returns):
    """Steps per second since `start`, and the mean return of the last 20 episodes."""
    elapsed = time.perf_counter() - start
    return {"steps": steps, "seconds": elapsed, "steps_per_second": steps / elapsed,
            "final_mean_return": float(np.mean(returns[-20:])) if returns else None}


def _critic_and_actor():
    """CartPole's critic and actor, 4 → 64 → 64 tanh MLPs with orthogonal init (gain √2, 1 for the value, 0.01 for
    the logits), built critic first as the single-file implementations do."""
    from torch import nn

    def layer(n_in, n_out, gain):
        lin = nn.Linear(n_in, n_out)
        nn.init.orthogonal_(lin.weight, gain)
        nn.init.zeros_(lin.bias)
        return lin

    critic = nn.Sequential(layer(4, 64, 2 ** 0.5), nn.Tanh(), layer(64, 64, 2 ** 0.5), nn.Tanh(), layer(64, 1, 1.0))
    actor = nn.Sequential(layer(4, 64, 2 ** 0.5), nn.Tanh(), layer(64, 64, 2 ** 0.5), nn.Tanh(), layer(64, 2, 0.01))
    return critic, actor


def torch_ppo(total_steps, num_envs=4, num_steps=128, epochs=4, minibatches=4, lr=2.5e-4, gamma=0.99, lam=0.95,
              clip=0.2, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5, seed=0):
    import gymnasium as gym
    import torch
    from torch import nn

    torch.manual_seed(seed)
    envs = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    critic, actor = _critic_and_actor()
    params = list(critic.parameters()) + list(actor.parameters())
    optimizer = torch.optim.Adam(params, lr=lr, eps=1e-5)
    obs_buf = torch.zeros((num_steps, num_envs, 4))
    act_buf = torch.zeros((num_steps, num_envs), dtype=torch.long)
    logp_buf, rew_buf, val_buf, done_buf = (torch.zeros((num_steps, num_envs)) for _ in range(4))
    obs, _ = envs.reset(seed=seed)
    obs = torch.tensor(obs, dtype=torch.float32)
    done = torch.zeros(num_envs)
    steps, returns, ep_ret = 0, [], np.zeros(num_envs)
    start = time.perf_counter()
    while steps < total_steps:
        optimizer.param_groups[0]["lr"] = lr * (1 - steps / total_steps)
        for t in range(num_steps):
            with torch.no_grad():
                logits = actor(obs)
                dist = torch.distributions.Categorical(logits=logits)
                action = dist.sample()
                obs_buf[t], act_buf[t], logp_buf[t], done_buf[t] = obs, action, dist.log_prob(action), done
                val_buf[t] = critic(obs).flatten()
            next_obs, reward, term, trunc, _ = envs.step(action.numpy())
            ep_ret += reward
            ended = np.logical_or(term, trunc)
            returns.extend(ep_ret[ended])
            ep_ret[ended] = 0
            rew_buf[t] = torch.tensor(reward, dtype=torch.float32)
            obs, done = torch.tensor(next_obs, dtype=torch.float32), torch.tensor(ended, dtype=torch.float32)
            steps += num_envs
        with torch.no_grad():
            next_value = critic(obs).flatten()
            adv = torch.zeros_like(rew_buf)
            last = 0
            for t in reversed(range(num_steps)):
                nonterminal = 1.0 - (done if t == num_steps - 1 else done_buf[t + 1])
                next_v = next_value if t == num_steps - 1 else val_buf[t + 1]
                delta = rew_buf[t] + gamma * next_v * nonterminal - val_buf[t]
                last = delta + gamma * lam * nonterminal * last
                adv[t] = last
            ret = adv + val_buf
        b_obs, b_act, b_logp = obs_buf.reshape(-1, 4), act_buf.reshape(-1), logp_buf.reshape(-1)
        b_adv, b_ret, b_val = adv.reshape(-1), ret.reshape(-1), val_buf.reshape(-1)
        batch = num_envs * num_steps
        mb = batch // minibatches
        for _ in range(epochs):
            order = np.random.permutation(batch)
            for s in range(0, batch, mb):
                idx = order[s:s + mb]
                dist = torch.distributions.Categorical(logits=actor(b_obs[idx]))
                ratio = (dist.log_prob(b_act[idx]) - b_logp[idx]).exp()
                a = b_adv[idx]
                a = (a - a.mean()) / (a.std() + 1e-8)
                pg = torch.max(-a * ratio, -a * ratio.clamp(1 - clip, 1 + clip)).mean()
                v = critic(b_obs[idx]).flatten()
                v_clipped = b_val[idx] + (v - b_val[idx]).clamp(-clip, clip)
                v_loss = 0.5 * torch.max((v - b_ret[idx]) ** 2, (v_clipped - b_ret[idx]) ** 2).mean()
                loss = pg - ent_coef * dist.entropy().mean() + vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, max_grad_norm)
                optimizer.step()
    return _measured(steps, start, returns)


def torch_a2c(total_steps, num_envs=8, num_steps=5, lr=7e-4, gamma=0.99, ent_coef=0.0, vf_coef=0.5,
              max_grad_norm=0.5, seed=0):
    """A2C as the single-file implementations and Stable-Baselines3 write it: n-step returns bootstrapped from V
    (GAE with λ = 1), one RMSprop step (α 0.99, ε 1e-5) on the whole rollout of num_envs × num_steps."""
    import gymnasium as gym
    import torch
    from torch import nn

    torch.manual_seed(seed)
    envs = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    critic, actor = _critic_and_actor()
    params = list(critic.parameters()) + list(actor.parameters())
    optimizer = torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-5)
    obs_buf = torch.zeros((num_steps, num_envs, 4))
    act_buf = torch.zeros((num_steps, num_envs), dtype=torch.long)
    rew_buf, done_buf = torch.zeros((num_steps, num_envs)), torch.zeros((num_steps, num_envs))
    obs, _ = envs.reset(seed=seed)
    obs = torch.tensor(obs, dtype=torch.float32)
    steps, returns, ep_ret = 0, [], np.zeros(num_envs)
    start = time.perf_counter()
    while steps < total_steps:
        for t in range(num_steps):
            with torch.no_grad():
                action = torch.distributions.Categorical(logits=actor(obs)).sample()
            obs_buf[t], act_buf[t] = obs, action
            next_obs, reward, term, trunc, _ = envs.step(action.numpy())
            ep_ret += reward
            ended = np.logical_or(term, trunc)
            returns.extend(ep_ret[ended])
            ep_ret[ended] = 0
            rew_buf[t] = torch.tensor(reward, dtype=torch.float32)
            done_buf[t] = torch.tensor(ended, dtype=torch.float32)
            obs = torch.tensor(next_obs, dtype=torch.float32)
            steps += num_envs
        with torch.no_grad():
            running = critic(obs).flatten()
            ret = torch.zeros_like(rew_buf)
            for t in reversed(range(num_steps)):
                running = rew_buf[t] + gamma * running * (1.0 - done_buf[t])
                ret[t] = running
        b_obs, b_act, b_ret = obs_buf.reshape(-1, 4), act_buf.reshape(-1), ret.reshape(-1)
        dist = torch.distributions.Categorical(logits=actor(b_obs))
        v = critic(b_obs).flatten()
        adv = (b_ret - v).detach()
        loss = (-(dist.log_prob(b_act) * adv).mean() - ent_coef * dist.entropy().mean()
                + vf_coef * ((v - b_ret) ** 2).mean())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, max_grad_norm)
        optimizer.step()
    return _measured(steps, start, returns)


def torch_dqn(total_steps, buffer_size=10_000, batch_size=128, train_frequency=10, target_interval=500,
              learning_starts=10_000, lr=2.5e-4, gamma=0.99, seed=0, hidden=(120, 84), episodes=None):
    """The single-file DQN on CartPole-v1; `episodes`, a list, receives (step, return) at each episode's end."""
    import gymnasium as gym
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make("CartPole-v1")
    q = nn.Sequential(nn.Linear(4, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
                      nn.Linear(hidden[1], 2))
    target = nn.Sequential(nn.Linear(4, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
                           nn.Linear(hidden[1], 2))
    target.load_state_dict(q.state_dict())
    optimizer = torch.optim.Adam(q.parameters(), lr=lr)
    obs_b = np.zeros((buffer_size, 4), np.float32)
    next_b = np.zeros((buffer_size, 4), np.float32)
    act_b = np.zeros(buffer_size, np.int64)
    rew_b = np.zeros(buffer_size, np.float32)
    term_b = np.zeros(buffer_size, np.float32)
    size = pos = 0
    obs, _ = env.reset(seed=seed)
    episode_return = 0.0
    start = time.perf_counter()
    for step in range(total_steps):
        eps = max(0.05, 1 - step / (0.5 * total_steps) * 0.95)
        if rng.random() < eps:
            action = int(rng.integers(2))
        else:
            with torch.no_grad():
                action = int(q(torch.tensor(obs, dtype=torch.float32)).argmax())
        next_obs, reward, term, trunc, _ = env.step(action)
        obs_b[pos], next_b[pos], act_b[pos], rew_b[pos], term_b[pos] = obs, next_obs, action, reward, term
        pos, size = (pos + 1) % buffer_size, min(size + 1, buffer_size)
        obs = next_obs
        episode_return += reward
        if term or trunc:
            obs, _ = env.reset()
            if episodes is not None:
                episodes.append((step + 1, episode_return))
            episode_return = 0.0
        if step > learning_starts and step % train_frequency == 0:
            idx = rng.integers(size, size=batch_size)
            with torch.no_grad():
                y = torch.tensor(rew_b[idx]) + gamma * target(torch.tensor(next_b[idx])).max(1).values * (
                    1 - torch.tensor(term_b[idx]))
            qa = q(torch.tensor(obs_b[idx])).gather(1, torch.tensor(act_b[idx])[:, None]).squeeze(1)
            loss = nn.functional.mse_loss(qa, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if step % target_interval == 0:
            target.load_state_dict(q.state_dict())
    elapsed = time.perf_counter() - start
    return {"steps": total_steps, "seconds": elapsed, "steps_per_second": total_steps / elapsed}


class _PendulumReplay:
    """A replay memory of float32 arrays, as the single-file TD3 and SAC keep one."""

    def __init__(self, size, obs_dim, act_dim, rng):
        self.obs, self.next_obs = np.zeros((size, obs_dim), np.float32), np.zeros((size, obs_dim), np.float32)
        self.act, self.rew, self.term = np.zeros((size, act_dim), np.float32), np.zeros(size, np.float32), \
            np.zeros(size, np.float32)
        self.size, self.pos, self.full, self.rng = size, 0, 0, rng

    def add(self, obs, action, reward, next_obs, terminated):
        i = self.pos
        self.obs[i], self.act[i], self.rew[i], self.next_obs[i], self.term[i] = obs, action, reward, next_obs, terminated
        self.pos, self.full = (i + 1) % self.size, min(self.full + 1, self.size)

    def sample(self, batch_size):
        import torch

        idx = self.rng.integers(self.full, size=batch_size)
        return (torch.from_numpy(self.obs[idx]), torch.from_numpy(self.act[idx]), torch.from_numpy(self.rew[idx]),
                torch.from_numpy(self.next_obs[idx]), torch.from_numpy(self.term[idx]))


def _soft_update(pairs, tau):
    import torch

    with torch.no_grad():
        for net, target in pairs:
            for p, pt in zip(net.parameters(), target.parameters()):
                pt.mul_(1 - tau).add_(tau * p)


def _pendulum_loop(total_steps, learning_starts, choose_action, train, memory, seed):
    """The single-file off-policy loop on Pendulum-v1: uniform random actions for `learning_starts` steps, then
    `choose_action(obs)`; every transition into `memory`; `train(step)` once per step after the warm-up."""
    import gymnasium as gym

    env = gym.make("Pendulum-v1")
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    returns, ep_ret = [], 0.0
    start = time.perf_counter()
    for step in range(total_steps):
        action = env.action_space.sample() if step < learning_starts else choose_action(obs)
        next_obs, reward, term, trunc, _ = env.step(action)
        memory.add(obs, action, reward, next_obs, term)
        obs, ep_ret = next_obs, ep_ret + reward
        if term or trunc:
            obs, _ = env.reset()
            returns.append(ep_ret)
            ep_ret = 0.0
        if step >= learning_starts:
            train(step)
    return _measured(total_steps, start, returns)


def _mlp(n_in, n_out, hidden):
    from torch import nn

    return nn.Sequential(nn.Linear(n_in, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
                         nn.Linear(hidden[1], n_out))


def torch_td3(total_steps, hidden=(256, 256), batch_size=256, learning_starts=1000, lr=3e-4, gamma=0.99, tau=0.005,
              policy_delay=2, exploration_noise=0.1, target_noise=0.2, noise_clip=0.5, buffer_size=1_000_000, seed=0):
    """TD3 on Pendulum-v1: one gradient step of both critics per environment step, the actor and the targets every
    `policy_delay` steps; the widely used single-file settings."""
    import copy

    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    high = 2.0  # Pendulum's torque bound
    actor, q1, q2 = _mlp(3, 1, hidden), _mlp(4, 1, hidden), _mlp(4, 1, hidden)
    actor_t, q1_t, q2_t = copy.deepcopy(actor), copy.deepcopy(q1), copy.deepcopy(q2)
    q_opt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=lr)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=lr)
    memory = _PendulumReplay(buffer_size, 3, 1, rng)

    def choose_action(obs):
        with torch.no_grad():
            action = high * torch.tanh(actor(torch.as_tensor(obs, dtype=torch.float32))).numpy()
        return np.clip(action + rng.normal(0, exploration_noise * high, 1), -high, high).astype(np.float32)

    def train(step):
        o, a, r, o2, d = memory.sample(batch_size)
        with torch.no_grad():
            noise = (torch.randn_like(a) * target_noise).clamp(-noise_clip, noise_clip) * high
            a2 = (high * torch.tanh(actor_t(o2)) + noise).clamp(-high, high)
            q_next = torch.min(q1_t(torch.cat([o2, a2], 1)), q2_t(torch.cat([o2, a2], 1))).view(-1)
            y = r + gamma * (1 - d) * q_next
        oa = torch.cat([o, a], 1)
        q_loss = ((q1(oa).view(-1) - y) ** 2).mean() + ((q2(oa).view(-1) - y) ** 2).mean()
        q_opt.zero_grad()
        q_loss.backward()
        q_opt.step()
        if step % policy_delay == 0:
            actor_loss = -q1(torch.cat([o, high * torch.tanh(actor(o))], 1)).mean()
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
            _soft_update(((actor, actor_t), (q1, q1_t), (q2, q2_t)), tau)

    return _pendulum_loop(total_steps, learning_starts, choose_action, train, memory, seed)


def torch_sac(total_steps, hidden=(256, 256), batch_size=256, learning_starts=1000, lr=3e-4, gamma=0.99, tau=0.005,
              buffer_size=1_000_000, seed=0):
    """SAC on Pendulum-v1: twin soft Q-networks, a tanh-Gaussian actor, α tuned toward −dim(A); one gradient step
    of the critics, the actor and α per environment step."""
    import copy

    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    high = 2.0  # Pendulum's torque bound
    actor, q1, q2 = _mlp(3, 2, hidden), _mlp(4, 1, hidden), _mlp(4, 1, hidden)
    q1_t, q2_t = copy.deepcopy(q1), copy.deepcopy(q2)
    q_opt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=lr)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=lr)
    log_alpha = torch.zeros(1, requires_grad=True)
    alpha_opt = torch.optim.Adam([log_alpha], lr=lr)
    target_entropy = -1.0

    def policy(o):
        mean, log_std = actor(o).chunk(2, dim=-1)
        log_std = log_std.clamp(-5, 2)
        u = mean + log_std.exp() * torch.randn_like(mean)
        a = torch.tanh(u)
        log_p = (-0.5 * ((u - mean) / log_std.exp()) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)
        log_p = log_p - (2 * (np.log(2) - u - torch.nn.functional.softplus(-2 * u))).sum(-1)
        return a * high, log_p

    memory = _PendulumReplay(buffer_size, 3, 1, rng)

    def choose_action(obs):
        with torch.no_grad():
            return policy(torch.as_tensor(obs, dtype=torch.float32)[None])[0][0].numpy()

    def train(step):
        o, a, r, o2, d = memory.sample(batch_size)
        alpha = log_alpha.exp().detach()
        with torch.no_grad():
            a2, logp2 = policy(o2)
            oa2 = torch.cat([o2, a2], 1)
            y = r + gamma * (1 - d) * (torch.min(q1_t(oa2), q2_t(oa2)).view(-1) - alpha * logp2)
        oa = torch.cat([o, a], 1)
        q_loss = ((q1(oa).view(-1) - y) ** 2).mean() + ((q2(oa).view(-1) - y) ** 2).mean()
        q_opt.zero_grad()
        q_loss.backward()
        q_opt.step()
        a_new, logp = policy(o)
        oa_new = torch.cat([o, a_new], 1)
        actor_loss = (alpha * logp - torch.min(q1(oa_new), q2(oa_new)).view(-1)).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        alpha_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
        alpha_opt.zero_grad()
        alpha_loss.backward()
        alpha_opt.step()
        _soft_update(((q1, q1_t), (q2, q2_t)), tau)

    return _pendulum_loop(total_steps, learning_starts, choose_action, train, memory, seed)
