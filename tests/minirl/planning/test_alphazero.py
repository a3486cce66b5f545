"""AlphaZero (book ch. 15.3-15.4): the book's tree walkthrough number by number, the batched search against the
core's sequential one, the board's symmetries, the network's gradient and loss, move probabilities, a short
self-play run on tic-tac-toe, and bad input."""

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
from minirl.algos.alphazero import AlphaZero
from minirl.algos.base import TrainingHooks
from minirl.envs import Gomoku, TicTacToe
from minirl.planning import MCTS, decided_positions, puct_score
from minirl.planning.alphazero import (BatchedSearch, augment, game_from_observation, move_probabilities,
                                       play_match, self_play, symmetry)
from minirl.planning.network import PolicyValueNet, alphazero_loss, legal_priors

# The book labels the cells 1..9 in the layout of its Board class (rows "7 8 9 / 4 5 6 / 1 2 3", row 0 at the
# bottom); label k is our action k - 1.
LABEL = {k: k - 1 for k in range(1, 10)}


def play(game, actions):
    for a in actions:
        game.play(a)
    return game


def walkthrough_position():
    """Fig. 15.6: black (player 1) on 1 and 5, white on 4, white to move (the book's example game, before
    (w, 7)): black threatens the diagonal 1-5-9."""
    return play(TicTacToe(), [LABEL[5], LABEL[4], LABEL[1]])


def scripted_predict(script):
    """A network that returns the book's numbers: `script` maps a position (its observation's first two planes)
    to (priors by action, v); any other position gets uniform priors and v = 0."""

    def predict(planes):
        log_p = np.full((len(planes), 9), np.log(1 / 9))
        v = np.zeros(len(planes))
        for i, s in enumerate(planes):
            key = (s[0].tobytes(), s[1].tobytes())
            if key in script:
                priors, v[i] = script[key]
                log_p[i] = np.log(np.maximum(priors, 1e-12))
        return log_p, v

    return predict


def key_of(game):
    obs = game.observation()
    return obs[0].tobytes(), obs[1].tobytes()


def book_script():
    root = walkthrough_position()
    after_w2 = play(root.copy(), [LABEL[2]])
    root_priors = np.full(9, 0.1)
    root_priors[LABEL[2]] = 0.5            # white's network likes 2 best: search 2 selects (w, 2)
    black_priors = np.full(9, 0.1)
    black_priors[LABEL[9]] = 0.5           # black's likes 9: search 3 selects (b, 9), which wins
    return {key_of(root): (root_priors, 0.0), key_of(after_w2): (black_priors, -0.1)}


def test_the_books_walkthrough_every_count_and_value():
    game = walkthrough_position()
    search = BatchedSearch(scripted_predict(book_script()), c_puct=5.0, num_simulations=1)
    # search 1: the root is a leaf; it is expanded and evaluated, only its N changes
    root = search.expand_roots([game], [None])[0]
    assert root.visit_count == 1 and all(c.visit_count == 0 for c in root.children.values())
    assert sorted(root.children) == [LABEL[k] for k in (2, 3, 6, 7, 8, 9)]
    # search 2: white selects (w, 2); the leaf is worth v = -0.1 to black, so +0.1 on white's edge
    search.run([game], [root])
    w2 = root.children[LABEL[2]]
    assert (w2.visit_count, w2.value_sum, w2.q) == (1, pytest.approx(0.1), pytest.approx(0.1))
    assert root.visit_count == 2 and sum(c.visit_count for c in root.children.values()) == 1
    # search 3: (w, 2) again (Q + U = 0.1 + 5 * 0.5 * sqrt(2) / 2 beats 5 * 0.1 * sqrt(2)), then (b, 9):
    # black wins, v_white = -1, so black's edge gets +1 and white's edge -1
    assert puct_score(root, w2, 5.0) == pytest.approx(0.1 + 5 * 0.5 * np.sqrt(2) / 2)
    search.run([game], [root])
    b9 = w2.children[LABEL[9]]
    assert (b9.visit_count, b9.value_sum, b9.q) == (1, pytest.approx(1.0), pytest.approx(1.0))
    assert (w2.visit_count, w2.value_sum, w2.q) == (2, pytest.approx(-0.9), pytest.approx(-0.45))
    assert root.visit_count == 3 and not b9.expanded()  # a finished game is never expanded
    # 398 more make 400 simulations after the first expansion, so the root has N = 401 and its children 400
    search.run([game], [root], num_simulations=398)
    assert root.visit_count == 401 and sum(c.visit_count for c in root.children.values()) == 400
    # and the move played (τ → 0) is the block on 9, as in fig. 15.15
    assert max(root.children, key=lambda a: root.children[a].visit_count) == LABEL[9]


def test_batched_search_of_one_game_is_the_cores_sequential_search():
    net = PolicyValueNet(4, blocks=1, channels=8, seed=1)
    for moves in ([], [5, 6], [0, 1, 2, 3, 9]):
        game = play(Gomoku(4, 3), moves)
        batched = BatchedSearch(net.predict, 5.0, 60).run([game])[0]
        core = MCTS(BatchedSearch(net.predict).evaluate_one, partial(puct_score, c_puct=5.0), 60).run(game)
        np.testing.assert_array_equal(MCTS.visit_counts(batched, 16), MCTS.visit_counts(core, 16))
        assert batched.visit_count == core.visit_count == 61


def test_searching_several_games_at_once_is_searching_each():
    net = PolicyValueNet(3, blocks=1, channels=8, seed=2)
    games = [play(TicTacToe(), m) for m in ([], [4], [0, 4, 8])]
    together = BatchedSearch(net.predict, 5.0, 30).run(games)
    for game, root in zip(games, together):
        alone = BatchedSearch(net.predict, 5.0, 30).run([game])[0]
        np.testing.assert_array_equal(MCTS.visit_counts(root, 9), MCTS.visit_counts(alone, 9))


def transform(row, col, n, k):
    """Where the symmetry k sends the square (row, col), written out: a quarter turn counter-clockwise takes
    (r, c) to (n-1-c, r); the flip takes (r, c) to (r, n-1-c)."""
    for _ in range(k % 4):
        row, col = n - 1 - col, row
    return (row, n - 1 - col) if k >= 4 else (row, col)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 6), st.integers(0, 20), st.integers(0, 2**31 - 1))
def test_the_eight_symmetries_move_planes_and_pi_together(n, moves, seed):
    rng = np.random.default_rng(seed)
    game, played = Gomoku(n, 3 if n == 3 else 4), []
    while len(played) < moves and game.winner() is None:
        played.append(int(rng.choice(game.legal_actions())))
        game.play(played[-1])
    pi = rng.random(n * n)
    planes8, pi8 = augment(game.observation(), pi)
    for k in range(8):
        image = Gomoku(n, game.n_in_row)
        for a in played:  # the same game, every move sent through the symmetry
            image.play(image.coords_to_action(*transform(*game.action_to_coords(a), n, k)))
        np.testing.assert_array_equal(planes8[k], image.observation())
        for a in range(n * n):  # π follows its moves
            assert pi8[k][image.coords_to_action(*transform(*game.action_to_coords(a), n, k))] == pi[a]
    np.testing.assert_array_equal(planes8[0], game.observation())


def test_symmetry_refuses_a_ninth():
    with pytest.raises(ValueError, match="k in 0..7"):
        symmetry(np.zeros((3, 3)), 8)
    with pytest.raises(ValueError, match=r"π \(n²,\)"):
        augment(np.zeros((4, 3, 3)), np.zeros(8))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 30), st.integers(0, 2**31 - 1))
def test_a_position_is_rebuilt_from_its_planes(moves, seed):
    rng = np.random.default_rng(seed)
    game = Gomoku(6, 4)
    for _ in range(moves):
        child = game.copy()
        child.play(int(rng.choice(game.legal_actions())))
        if child.winner() is not None:
            break
        game = child
    again = game_from_observation(game.observation(), Gomoku(6, 4))
    np.testing.assert_array_equal(again.observation(), game.observation())
    np.testing.assert_array_equal(again.board, game.board)
    assert (again.current_player, again.last_action, again.move_count) == \
        (game.current_player, game.last_action, game.move_count)


def test_move_probabilities_with_temperature():
    visits = np.array([0, 10, 30, 60])
    np.testing.assert_allclose(move_probabilities(visits, 1.0), [0, 0.1, 0.3, 0.6])
    np.testing.assert_allclose(move_probabilities(visits, 0.5), np.array([0, 100, 900, 3600]) / 4600)
    np.testing.assert_array_equal(move_probabilities(visits, 0.0), [0, 0, 0, 1])
    np.testing.assert_array_equal(move_probabilities([5, 5, 1], 0.0), [1, 0, 0])  # ties: the lowest move
    assert np.isfinite(move_probabilities([400, 399], 0.01)).all()  # N^{1/τ} would overflow unscaled
    with pytest.raises(ValueError, match="τ >= 0"):
        move_probabilities(visits, -1.0)
    with pytest.raises(ValueError, match="some visits"):
        move_probabilities([0, 0], 1.0)


def test_illegal_moves_get_no_prior():
    log_p = np.log(np.array([0.4, 0.1, 0.2, 0.3]))
    np.testing.assert_allclose(legal_priors(log_p, np.array([1, 3])), [0.25, 0.75])


def test_network_shapes_and_the_gradient_check_in_float64():
    net = PolicyValueNet(3, blocks=1, channels=2, value_hidden=3, seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    planes = rng.random((3, 4, 3, 3))
    log_p, v = net(ad.tensor(planes))
    assert log_p.shape == (3, 9) and v.shape == (3,) and log_p.dtype == np.float64
    np.testing.assert_allclose(np.exp(log_p.data).sum(axis=1), 1.0)
    assert (np.abs(v.data) <= 1).all()
    pi, z = rng.dirichlet(np.ones(9), size=3), np.array([1.0, -1.0, 0.0])
    x = ad.tensor(planes, requires_grad=True)
    params = list(net.parameters())

    def loss(x, *weights):
        log_p, v = net(x)
        return alphazero_loss(log_p, v, pi, z, params, c=0.1)[0]

    assert ad.gradcheck(loss, (x, *params), full_jacobian_limit=0, directions=8)  # uᵀJv, 8 random directions


def test_the_loss_against_a_hand_computation():
    log_p = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    v = np.array([0.5, -0.2])
    pi = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    z = np.array([1.0, -1.0])
    theta = ad.tensor(np.array([1.0, -2.0]), requires_grad=True)
    total, value, policy = alphazero_loss(ad.tensor(log_p), ad.tensor(v), pi, z, [theta], c=0.01)
    by_hand_value = ((1 - 0.5) ** 2 + (-1 + 0.2) ** 2) / 2                       # (z − v)² = (0.25 + 0.64) / 2
    by_hand_policy = (-np.log(0.5) - 0.5 * np.log(0.1) - 0.5 * np.log(0.8)) / 2  # −πᵀ log p
    assert value.item() == pytest.approx(by_hand_value)
    assert policy.item() == pytest.approx(by_hand_policy)
    assert total.item() == pytest.approx(by_hand_value + by_hand_policy + 0.01 * 5.0)  # c ‖θ‖² = 0.01 · 5
    total.backward()
    np.testing.assert_allclose(theta.grad.data, [0.02, -0.04])  # ∂(c‖θ‖²)/∂θ = 2cθ


def test_self_play_records_outcomes_from_each_players_view():
    net = PolicyValueNet(3, blocks=1, channels=8, seed=3)
    records = self_play(BatchedSearch(net.predict, 5.0, 10), [TicTacToe() for _ in range(6)],
                        np.random.default_rng(0), temperature_moves=9)
    for planes, pi, z, winner in records:
        assert len(planes) == len(pi) == len(z) >= 5
        np.testing.assert_allclose(pi.sum(axis=1), 1.0, rtol=1e-6)
        assert ((pi > 0) <= (planes[:, 0] + planes[:, 1] == 0).reshape(len(pi), 9)).all()  # only empty squares
        to_move = np.where(planes[:, 3, 0, 0] == 1, 1, 2)
        expected = 0 if winner == 0 else np.where(to_move == winner, 1.0, -1.0)
        np.testing.assert_array_equal(z, np.broadcast_to(expected, z.shape))


def test_a_short_run_on_tic_tac_toe_learns_values():
    agent = AlphaZero("TicTacToe-v0", seed=0, num_simulations=20, parallel_games=16, updates_per_game=3.0,
                      batch_size=64, gate="none", temperature_moves=9)
    losses = []

    class Record(TrainingHooks):
        def on_episode(self, a, r, n):
            if a.last_losses:
                losses.append(a.last_losses["loss"])

    agent.learn(64, Record())
    assert agent.num_timesteps == 64 and agent.num_updates > 0
    assert np.mean(losses[-16:]) < np.mean(losses[:16]) - 0.05
    # the value head: positions that the player to move wins under perfect play against ones it loses
    positions = decided_positions(TicTacToe, np.random.default_rng(1))
    _, v_won = agent.best_net.predict(np.stack(positions[1]))
    _, v_lost = agent.best_net.predict(np.stack(positions[-1]))
    assert len(v_won) > 20 and len(v_lost) > 20
    assert v_won.mean() > v_lost.mean() + 0.2


def test_play_match_counts_from_the_first_players_view():
    first_free = lambda game: int(game.legal_actions()[0])  # noqa: E731
    last_free = lambda game: int(game.legal_actions()[-1])  # noqa: E731
    result = play_match(first_free, last_free, TicTacToe, 2)
    assert result["wins"] + result["draws"] + result["losses"] == 2
    assert result["score"] == (result["wins"] + 0.5 * result["draws"]) / 2


@pytest.mark.parametrize("settings_,name", [({"c_puct": -1.0}, "c_puct"), ({"gate": "elo"}, "gate"),
                                            ({"num_simulations": 0}, "num_simulations"),
                                            ({"size": 3.5}, "size"), ({"noise_weight": 2.0}, "noise_weight")])
def test_bad_hyperparameters_are_refused_by_name(settings_, name):
    with pytest.raises(ValueError, match=f"alphazero.{name}"):
        AlphaZero("TicTacToe-v0", **settings_)


def test_n_in_row_longer_than_the_board_is_refused():
    with pytest.raises(ValueError, match="alphazero.n_in_row"):
        AlphaZero("Gomoku-v0", size=5, n_in_row=6)


def test_board_size_and_row_are_settable():
    agent = AlphaZero("Gomoku-v0", size=5, n_in_row=4, num_simulations=4)
    assert (agent.size, agent.n_in_row) == (5, 4)
    obs, _ = agent.evaluation_env().reset(seed=0)
    assert obs.shape == (4, 5, 5) and 0 <= agent.act(obs) < 25


class Killed(BaseException):
    """The process dying mid-run."""


def test_a_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path, monkeypatch):
    from minirl.io.logger import read_metrics
    from minirl.runs import trainer

    tiny = {"num_simulations": 6, "parallel_games": 4, "gate": "uct", "gate_every": 8, "gate_games": 2,
            "gate_simulations": 10, "batch_size": 16, "channels": 8}
    run = partial(trainer.train, "alphazero", "TicTacToe-v0", 16, seed=3, overrides=tiny, progress=False,
                  checkpoint_every=8, evaluate_episodes=0)
    whole, whole_dir = run(out=tmp_path / "whole")
    on_step = trainer.RunHooks.on_step

    def dying(self, agent):  # dies mid-round, after the checkpoint of game 8
        if agent.num_timesteps >= 13:
            raise Killed
        return on_step(self, agent)

    monkeypatch.setattr(trainer.RunHooks, "on_step", dying)
    with pytest.raises(Killed):
        run(out=tmp_path / "cut")
    monkeypatch.undo()
    resumed, cut_dir = trainer.resume(tmp_path / "cut", progress=False, checkpoint_every=8, evaluate_episodes=0)
    assert resumed.num_timesteps == whole.num_timesteps == 16
    strip = lambda rows: [{k: v for k, v in r.items() if k != trainer.WALL_CLOCK} for r in rows]  # noqa: E731
    rows = strip(read_metrics(whole_dir))
    assert rows == strip(read_metrics(cut_dir)) and len(rows) == 16
    assert [r["step"] for r in rows if r["gate_games"] == 2] == [8, 16]  # the gate's record, every 8 games
    assert all(np.isfinite(r["loss"]) for r in rows)
    for name in ("net", "best_net"):
        for key, value in getattr(whole, name).state_dict().items():
            np.testing.assert_array_equal(value, getattr(resumed, name).state_dict()[key], err_msg=key)
    np.testing.assert_array_equal(whole.buffer["pi"], resumed.buffer["pi"])
    assert whole.gates == resumed.gates


def test_the_wrong_environment_is_refused_clearly():
    with pytest.raises(ValueError, match="alphazero.size: TicTacToe-v0 takes no board size"):
        AlphaZero("TicTacToe-v0", size=5)
    with pytest.raises(ValueError, match="expected a board-game environment"):
        AlphaZero("CartPole-v1")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.floats(-3, 3), st.floats(0.01, 1)), min_size=1, max_size=12),
       st.floats(0.1, 10))
def test_the_inline_selection_is_puct_score(children, c_puct):
    from minirl.planning import Node

    parent = Node()
    parent.expand(np.arange(len(children)), [p for _, _, p in children])
    for child, (n, w, _) in zip(parent.children.values(), children):
        child.visit_count, child.value_sum = n, w * n
    parent.visit_count = 1 + sum(n for n, _, _ in children)
    scores = [puct_score(parent, child, c_puct) for child in parent.children.values()]
    assert BatchedSearch(None, c_puct).select_child(parent)[0] == int(np.argmax(scores))


def test_the_progress_bar_counts_games():
    import io

    from minirl.runs.progress import ProgressBar

    bar = ProgressBar(100, "train", stream=io.StringIO(), unit=AlphaZero.step_unit)
    bar.update(3)
    assert " games/s" in bar.render() and "steps/s" not in bar.render()


@pytest.mark.parametrize("gate", ["best", "uct"])
def test_the_gate_keeps_or_replaces_the_best_network(gate):
    agent = AlphaZero("TicTacToe-v0", seed=1, num_simulations=6, parallel_games=4, channels=8, batch_size=16,
                      gate=gate, gate_every=4, gate_games=4, gate_simulations=10, gate_threshold=0.55)
    before = {k: v.copy() for k, v in agent.best_net.state_dict().items()}
    agent.learn(8)
    assert [g["game"] for g in agent.gates] == [4, 8]
    for g in agent.gates:
        assert g["gate_games"] == 4 and g["gate_wins"] + g["gate_draws"] + g["gate_losses"] == 4
        assert g["score"] == (g["gate_wins"] + 0.5 * g["gate_draws"]) / 4
        if gate == "best":
            assert g["gate_accepted"] == float(g["score"] > 0.55)
    same = all(np.array_equal(v, before[k]) for k, v in agent.best_net.state_dict().items())
    assert same == (not any(g["gate_accepted"] for g in agent.gates))
