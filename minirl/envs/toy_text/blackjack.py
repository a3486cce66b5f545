"""Blackjack-v1 with Gymnasium's rules (Sutton & Barto Example 5.1): an infinite deck, the dealer hits
until 17, no doubling or splitting.

Observation (player's sum 4..31, dealer's showing card 1..10 with 1 = ace, usable ace 0/1), a Tuple of
Discrete(32), Discrete(11), Discrete(2). Actions 0 stick, 1 hit. Reward +1 win, -1 loss, 0 draw, given when
the episode ends (hitting past 21 ends it at once with -1).

- sab=True (the registered default): Sutton & Barto's rules; a natural (ace + ten-card) wins +1 unless the
  dealer has one too.
- sab=False, natural=True: a natural that wins pays 1.5.

Cards are drawn from `np_random` in Gymnasium's order (reset also draws the suit shown for the dealer's card
and which face card a ten is, as Gymnasium does for its pictures), so a seed deals the same hands.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.core import Env
from minirl.envs.spaces import Discrete, Tuple

DECK = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10])  # ace, 2-10, jack, queen, king
SUITS = ["C", "D", "H", "S"]
FACES = ["J", "Q", "K"]


def hand_value(hand) -> tuple[int, int]:
    """(sum, usable ace): an ace counts 11 when that does not bust the hand."""
    total = int(sum(hand))
    usable = int(1 in hand and total + 10 <= 21)
    return total + 10 * usable, usable


def score(hand) -> int:
    """The hand's value, 0 when bust."""
    total, _ = hand_value(hand)
    return 0 if total > 21 else total


def is_natural(hand) -> bool:
    return sorted(hand) == [1, 10]


class BlackjackEnv(Env):
    metadata = {"render_modes": []}

    def __init__(self, sab: bool = False, natural: bool = False, render_mode: str | None = None):
        self.sab, self.natural = sab, natural
        self.render_mode = render_mode
        self.action_space = Discrete(2)
        self.observation_space = Tuple((Discrete(32), Discrete(11), Discrete(2)))
        self.player: list[int] | None = None
        self.dealer: list[int] | None = None

    def _draw(self) -> int:
        return int(self.np_random.choice(DECK))

    def _obs(self):
        total, usable = hand_value(self.player)
        return total, self.dealer[0], usable

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.dealer = [self._draw(), self._draw()]
        self.player = [self._draw(), self._draw()]
        self.np_random.choice(SUITS)  # Gymnasium draws the pictured suit (and face) here; keep its stream
        if self.dealer[0] == 10:
            self.np_random.choice(FACES)
        return self._obs(), {}

    def step(self, action):
        if self.player is None:
            raise RuntimeError("BlackjackEnv: call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"BlackjackEnv: action {action!r} is not in {self.action_space}")
        if action == 1:  # hit
            self.player.append(self._draw())
            bust = hand_value(self.player)[0] > 21
            return self._obs(), -1.0 if bust else 0.0, bust, False, {}
        while hand_value(self.dealer)[0] < 17:  # stick: the dealer plays out the hand
            self.dealer.append(self._draw())
        player, dealer = score(self.player), score(self.dealer)
        reward = float(player > dealer) - float(player < dealer)
        if self.sab and is_natural(self.player) and not is_natural(self.dealer):
            reward = 1.0
        elif not self.sab and self.natural and is_natural(self.player) and reward == 1.0:
            reward = 1.5
        return self._obs(), reward, True, False, {}
