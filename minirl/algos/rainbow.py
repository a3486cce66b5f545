"""Rainbow: the six improvements of DQN in one agent (book ch. 4.7, L18717–18725; Hessel et al. 2018).

    Double Q-learning   (4.10)        the online network chooses a*, the target network evaluates it
    Dueling heads       (4.14), (4.23) V and A combined atom by atom, before the softmax
    Prioritized replay  (4.15)–(4.16) priority = KL(m ‖ p) of the distributional loss, β annealed to 1
    n-step returns      (4.17)–(4.18) n = 3
    Noisy networks      (4.19)        exploration by NoisyLinear layers, ε = 0
    Distributional C51  (4.20)–(4.22) 51 atoms, the categorical projection, the cross-entropy loss

Every component is a switch of the shared parts (dqn.py, c51.py, q_networks.py, minirl.buffers), so Rainbow is
C51 with all of them on: the code below is its table of defaults and nothing else. Turning one switch off
gives the ablations of Hessel et al.
"""

from __future__ import annotations

from dataclasses import replace

from minirl.algos.c51 import C51
from minirl.algos.dqn import ACROBOT

RAINBOW_SWITCHES = {"double_q": True, "dueling": "mean", "prioritized": "proportional", "priority_alpha": 0.5,
                    "n_step": 3, "noisy": True}


class Rainbow(C51):
    """C51 with Double Q, dueling heads, prioritized replay (KL priorities), 3-step returns and noisy nets."""

    name = "rainbow"
    hyperparameters = {key: replace(hp, default=RAINBOW_SWITCHES[key]) if key in RAINBOW_SWITCHES else hp
                       for key, hp in C51.hyperparameters.items()}
    default_steps = {"CartPole-v1": 100_000, "Acrobot-v1": 100_000}
    env_defaults = {"CartPole-v1": dict(C51.env_defaults["CartPole-v1"]),
                    "Acrobot-v1": {**ACROBOT, "v_min": -100.0, "v_max": 0.0}}  # returns ≥ −1/(1 − γ)
