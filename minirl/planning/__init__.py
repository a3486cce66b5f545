"""Planning with models and search (book ch. 9 and 15.3): learned models F_s, F_r, simple Monte Carlo search,
Monte Carlo tree search with UCT and PUCT, Dyna-2, and perfect minimax play for small board games.

    from minirl.envs import TicTacToe
    from minirl.planning import UCT, minimax_action
    game = TicTacToe()
    action = UCT(num_simulations=1000, c=1.0, seed=0).search(game)

The board games themselves live in `minirl.envs` (`Gomoku`, `TicTacToe`).
"""

from minirl.planning.models import GameModel, MDPModel, Model, TabularModel
from minirl.planning.simple_search import SimpleMCSearch, random_rollout_policy, rollout_return, simple_mc_search
from minirl.planning.mcts import MCTS, UCT, Node, dirichlet_noise, most_visited, puct_score, terminal_value, uct_score
from minirl.planning.minimax import action_values, decided_positions, minimax_action, minimax_value
from minirl.planning.dyna2 import Dyna2, Dyna2Result

__all__ = [
    "Model", "TabularModel", "MDPModel", "GameModel",
    "simple_mc_search", "rollout_return", "random_rollout_policy", "SimpleMCSearch",
    "Dyna2", "Dyna2Result",
    "Node", "MCTS", "UCT", "uct_score", "puct_score", "dirichlet_noise", "most_visited", "terminal_value",
    "minimax_value", "minimax_action", "action_values", "decided_positions",
]
