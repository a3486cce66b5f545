"""AlphaZero on a board game (book ch. 15.3–15.4, fig. 15.5, Table 15.1): the agent `minirl train alphazero` runs.

The loop of fig. 15.5, one round at a time (`_train`):

    play `parallel_games` self-play games at once with f_θ (f_θ* when gate = "best")  minirl.planning.alphazero
        (PUCT search with c_puct = 5, `num_simulations` per move, Dir(0.3) noise mixed in with weight 0.25
        at the root, τ = 1 for the first `temperature_moves` moves then the most visited move)
    store their (s, π, z), augmented by the eight symmetries of the board, in the data buffer (newest kept)
    `updates_per_game` gradient steps per game on minibatches of the buffer:
        l = (z − v)² − πᵀ log p + c ‖θ‖²                                             (book L37665)   `train_step`
    every `gate_every` games, the evaluator decides whether f_θ becomes the best network f_θ*      `_gate`:
        gate = "best":  f_θ plays `gate_games` games against f_θ*; it replaces f_θ* if it scores > 55 %
                        (AlphaGo Zero's rule, which the book follows, L37671; draws count half a win); the
                        self-play games come from f_θ* (fig. 15.20)
        gate = "uct":   f_θ plays pure MCTS (UCT with random roll-outs, `gate_simulations` per move), as the
                        book's code does; it replaces f_θ* if it scores at least as well as f_θ* did
        gate = "none":  f_θ is always the best (AlphaZero's choice: one network, no gate)

A "step" of `learn(total)` is one self-play GAME: `num_timesteps` counts games and the progress bar runs over
them. `on_episode` reports each game with its result for player 1 (+1, −1, 0) and its length in moves; the
gate's results go to the metrics as columns `gate_games`, `gate_wins`, `gate_draws`, `gate_losses` (from the
new network's view) and `gate_accepted` on the row of the round's last game, and are 0 on the other rows; the
losses of the round's gradient steps (`loss`, `value_loss`, `policy_loss`) are on every row of the round.

Acting: `act(obs)` rebuilds the position from the observation planes (they hold the whole board, the last move
and who is to move) and returns the most visited move of a search with f_θ* (no noise, τ → 0). `evaluate`
plays the registered environment, whose opponent is fixed (random moves by default), as player 1.

Hyperparameters `size` and `n_in_row` (None: the environment's own) set the board: `--set size=6 n_in_row=4`.
"""

from __future__ import annotations

import copy

import numpy as np

from minirl.algos.base import Agent, Hyperparameter
from minirl.optim.adam import Adam
from minirl.planning.alphazero import BatchedSearch, augment, game_from_observation, play_match, self_play
from minirl.planning.network import PolicyValueNet, alphazero_loss


def train_step(net, optimizer, planes, pi, z, c: float) -> dict:
    """One Adam step on l = (z − v)² − πᵀ log p + c ‖θ‖² over a minibatch; returns the loss and its parts."""
    net.train()
    log_p, v = net(planes)
    total, value_loss, policy_loss = alphazero_loss(log_p, v, pi, z, net.parameters(), c)
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    return {"loss": float(total.item()), "value_loss": float(value_loss.item()),
            "policy_loss": float(policy_loss.item())}


class AlphaZero(Agent):
    """AlphaZero: PUCT tree search with a policy-value ResNet, trained by self-play (book ch. 15, Table 15.1)."""

    name = "alphazero"
    step_unit = "games"
    GATE_COLUMNS = ("gate_games", "gate_wins", "gate_draws", "gate_losses", "gate_accepted")
    hyperparameters = {
        "size": Hyperparameter(None, "board size n (n × n); None: the environment's", low=3, kind=int),
        "n_in_row": Hyperparameter(None, "stones in a row that win; None: the environment's", low=3, kind=int),
        "num_simulations": Hyperparameter(400, "searches per move (400 in the book's Table 15.1)", low=1),
        "c_puct": Hyperparameter(5.0, "c_puct of U(s, a) in the PUCT selection", above=0.0),
        "dirichlet_alpha": Hyperparameter(0.3, "α of the Dirichlet noise at the root during self-play", above=0.0),
        "noise_weight": Hyperparameter(0.25, "ε: P ← (1 − ε) P + ε η at the root", low=0.0, high=1.0),
        "temperature_moves": Hyperparameter(12, "moves played with τ = 1 before τ → 0", low=0),
        "parallel_games": Hyperparameter(8, "self-play games played at once, their leaves evaluated together",
                                         low=1),
        "blocks": Hyperparameter(2, "residual blocks of the network (19 in the book)", low=0),
        "channels": Hyperparameter(32, "channels of the residual tower (256 in the book)", low=1),
        "buffer_size": Hyperparameter(10_000, "positions kept for training (augmented ones included)", low=1),
        "batch_size": Hyperparameter(128, "positions per gradient step (512 in the book)", low=1),
        "learning_rate": Hyperparameter(1e-3, "Adam's step size (Table 15.1)", above=0.0),
        "weight_decay": Hyperparameter(1e-4, "c of c ‖θ‖² in the loss", low=0.0),
        "updates_per_game": Hyperparameter(2.0, "gradient steps per self-play game", low=0.0),
        "augment": Hyperparameter(True, "store the eight symmetries of every position"),
        "gate": Hyperparameter("uct", "how the best network is chosen", choices=("uct", "best", "none")),
        "gate_every": Hyperparameter(50, "self-play games between two evaluations", low=1),
        "gate_games": Hyperparameter(10, "games of one evaluation, the first move alternating", low=1),
        "gate_simulations": Hyperparameter(1000, "UCT's roll-outs per move when gate = 'uct'", low=1),
        "gate_threshold": Hyperparameter(0.55, "score the new network needs against the best when gate = 'best'",
                                         low=0.0, high=1.0),
    }
    # tic-tac-toe in minutes on a CPU: few searches, small network, many updates per game
    env_defaults = {
        "TicTacToe-v0": {"num_simulations": 50, "temperature_moves": 4, "channels": 32, "blocks": 1,
                         "batch_size": 128, "updates_per_game": 2.0, "gate_every": 100, "gate_games": 10,
                         "gate_simulations": 400},
        "Gomoku-v0": {"num_simulations": 400, "blocks": 2, "channels": 32, "parallel_games": 16,
                      "batch_size": 256, "gate_every": 200},
    }
    default_steps = {"TicTacToe-v0": 400, "Gomoku-v0": 2000}

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        hp = self.hp
        self.env = self.evaluation_env() if not hasattr(env, "step") else env
        self.env.reset(seed=self.seed)
        if not hasattr(self.env.unwrapped, "game"):
            raise ValueError(f"alphazero: expected a board-game environment (TicTacToe-v0, Gomoku-v0), got "
                             f"{self.env_id or type(self.env).__name__}")
        self.template = self.env.unwrapped.game.copy()  # the empty board every self-play game starts from
        self.size, self.n_in_row = self.template.size, self.template.n_in_row
        self.net = PolicyValueNet(self.size, hp["blocks"], hp["channels"], seed=self.seed)
        self.best_net = copy.deepcopy(self.net)
        self.optimizer = Adam(self.net.parameters(), lr=hp["learning_rate"])
        self.search = BatchedSearch(self.net.predict, hp["c_puct"], hp["num_simulations"])
        self.best_search = BatchedSearch(self.best_net.predict, hp["c_puct"], hp["num_simulations"])
        moves = self.size * self.size
        self.buffer = {"planes": np.zeros((0, 4, self.size, self.size), np.float32),
                       "pi": np.zeros((0, moves), np.float32), "z": np.zeros(0, np.float32)}
        self.updates_owed = 0.0  # fractional gradient steps carried to the next round
        self.num_updates = 0
        self.best_score = -1.0
        self.last_losses: dict = {}
        self.gates: list[dict] = []
        self.episode_metrics: dict = {}

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        if values["size"] is not None and values["n_in_row"] is not None and values["n_in_row"] > values["size"]:
            raise ValueError(f"alphazero.n_in_row: expected at most size = {values['size']}, "
                             f"got {values['n_in_row']}")

    def evaluation_env(self):
        from minirl.envs import make

        kwargs = {k: self.hp[k] for k in ("size", "n_in_row") if self.hp[k] is not None}
        if self.env_id is None:
            raise ValueError("alphazero: it needs a registered board-game id (TicTacToe-v0, Gomoku-v0)")
        try:
            return make(self.env_id, **kwargs)
        except TypeError:  # an environment whose board is fixed
            raise ValueError(f"alphazero.{'/'.join(kwargs)}: {self.env_id} takes no board size or row length; "
                             f"got {kwargs} (Gomoku-v0 does)") from None

    # -- acting ------------------------------------------------------------------------------------------
    def move(self, game) -> int:
        """The best network's move in `game`: the most visited after `num_simulations` searches (τ → 0)."""
        return self.best_search.best_move(game)[0]

    def act(self, obs, deterministic: bool = True):
        return self.move(game_from_observation(obs, self.template))

    def new_game(self):
        return self.template.copy()

    # -- training ----------------------------------------------------------------------------------------
    def _train(self, total_steps, hooks):
        hp = self.hp
        while self.num_timesteps < total_steps:
            count = min(hp["parallel_games"], total_steps - self.num_timesteps)
            search = self.best_search if hp["gate"] == "best" else self.search
            records = self_play(search, [self.new_game() for _ in range(count)], self.rng,
                                hp["temperature_moves"], hp["dirichlet_alpha"], hp["noise_weight"])
            for planes, pi, z, _ in records:
                self._store(planes, pi, z)
            self._learn(count)
            gate = {}
            if hp["gate"] == "none":
                self.best_net.load_state_dict(self.net.state_dict())
            else:
                due = (self.num_timesteps + count) // hp["gate_every"] > self.num_timesteps // hp["gate_every"]
                gate = self._gate(self.num_timesteps + count) if due else {k: 0.0 for k in self.GATE_COLUMNS}
            # the round's games are reported once they have been learnt from: a run killed among them repeats
            # the whole round from the last boundary, identically
            for i, (_, _, z, winner) in enumerate(records):
                self.num_timesteps += 1
                self.num_episodes += 1
                last = i == count - 1
                self.episode_metrics = {**self.last_losses, **(gate if last else dict.fromkeys(gate, 0.0))}
                hooks.on_episode(self, 0.0 if winner == 0 else (1.0 if winner == 1 else -1.0), len(z))
                if hooks.on_step(self) is False:
                    return
            hooks.on_boundary(self)

    def _store(self, planes, pi, z) -> None:
        """Append a game's positions (and their symmetries) to the buffer, keeping the newest `buffer_size`."""
        if self.hp["augment"]:
            pairs = [augment(s, p) for s, p in zip(planes, pi)]
            planes = np.concatenate([a for a, _ in pairs])
            pi = np.concatenate([b for _, b in pairs])
            z = np.repeat(z, 8)
        keep = self.hp["buffer_size"]
        self.buffer = {"planes": np.concatenate([self.buffer["planes"], planes])[-keep:],
                       "pi": np.concatenate([self.buffer["pi"], pi])[-keep:],
                       "z": np.concatenate([self.buffer["z"], z])[-keep:]}

    def _learn(self, games: int) -> None:
        hp = self.hp
        size = len(self.buffer["z"])
        self.updates_owed += hp["updates_per_game"] * games
        totals = []
        while self.updates_owed >= 1.0:
            self.updates_owed -= 1.0
            idx = self.rng.integers(size, size=hp["batch_size"])  # uniformly, with replacement
            totals.append(train_step(self.net, self.optimizer, self.buffer["planes"][idx], self.buffer["pi"][idx],
                                     self.buffer["z"][idx], hp["weight_decay"]))
            self.num_updates += 1
        if totals:
            self.last_losses = {k: float(np.mean([t[k] for t in totals])) for k in totals[0]}

    def _gate(self, games: int) -> dict:
        """The evaluator, after `games` self-play games: does f_θ become the best network? Returns the columns
        it adds to the metrics."""
        from minirl.planning.mcts import UCT

        hp = self.hp
        current = lambda game: self.search.best_move(game)[0]  # noqa: E731
        if hp["gate"] == "best":
            result = play_match(current, self.move, self.new_game, hp["gate_games"])
            accepted = result["score"] > hp["gate_threshold"]
        else:
            uct = UCT(num_simulations=hp["gate_simulations"], seed=int(self.rng.integers(2**31)))
            result = play_match(current, uct.search, self.new_game, hp["gate_games"])
            accepted = result["score"] >= self.best_score
            if accepted:
                self.best_score = result["score"]
        if accepted:
            self.best_net.load_state_dict(self.net.state_dict())
        record = {"gate_games": result["games"], "gate_wins": result["wins"], "gate_draws": result["draws"],
                  "gate_losses": result["losses"], "gate_accepted": float(accepted)}
        self.gates.append({"game": games, "score": result["score"], **record})
        return record

    # -- saving and loading ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {**super().state_dict(), "net": self.net.state_dict(), "best_net": self.best_net.state_dict(),
                "optimizer": self.optimizer.state_dict(), "buffer": dict(self.buffer),
                "updates_owed": self.updates_owed, "num_updates": self.num_updates, "best_score": self.best_score,
                "last_losses": dict(self.last_losses), "gates": list(self.gates)}

    def load_state_dict(self, state: dict) -> None:
        shape = tuple(np.shape(state["buffer"]["planes"])[1:])
        if shape != (4, self.size, self.size):
            raise ValueError(f"alphazero: the checkpoint holds positions of shape {shape}, this board's are "
                             f"{(4, self.size, self.size)}")
        super().load_state_dict(state)
        self.net.load_state_dict(state["net"])
        self.best_net.load_state_dict(state["best_net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.buffer = {k: np.array(state["buffer"][k], dtype=np.float32) for k in ("planes", "pi", "z")}
        self.updates_owed = float(state["updates_owed"])
        self.num_updates = int(state["num_updates"])
        self.best_score = float(state["best_score"])
        self.last_losses = dict(state["last_losses"])
        self.gates = [dict(g) for g in state["gates"]]


__all__ = ["AlphaZero", "train_step"]
