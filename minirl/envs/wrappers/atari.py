"""The Atari wrappers of DQN (book ch. 4.8, L19201–19245) and `make_atari`, which stacks them on an ALE game.

The Arcade Learning Environment shows a 210×160 colour screen 60 times a second; DQN (ch. 4.3, L18201–18355) does
not learn from that screen but from φ(s), the last 4 frames, greyed and shrunk to 84×84. The book builds φ and a
few more training aids as a stack of wrappers, applied in this order (innermost first):

    NoopReset        up to 30 no-ops after a reset, so that episodes start in different states
    MaxAndSkip       each action repeated 4 frames; the observation is the pixel-wise max of the last 2
    (Monitor)        the real score of every game: our RecordEpisodeStatistics, below the reward clipping
    EpisodicLife     losing a life ends the episode for the learner; the game is reset only when it is over
    FireReset        presses FIRE after a reset, for games that wait for it to start
    WarpFrame        84×84 grey (area-averaged, as OpenCV's INTER_AREA does)
    ClipReward       reward → its sign, −1, 0 or +1
    FrameStack       the last 4 frames, channel first: observations of shape (4, 84, 84), uint8

    env = make_atari("BreakoutNoFrameskip-v4")          # or minirl.envs.make("BreakoutNoFrameskip-v4")
    obs, info = env.reset(seed=0)                        # obs: (4, 84, 84) uint8

Each wrapper changes one thing and says why in its docstring. The game comes from Gymnasium's ALE envs (ale-py,
imported only when a game is made: ``pip install -e ".[atari]"``); use the "NoFrameskip-v4" ids, which show every
frame, since MaxAndSkip does the skipping. `make_atari` asks ALE for grey screens (its own luminance palette)
rather than colour ones: the frames then are greyed before the max over two frames, as in Gymnasium's
`AtariPreprocessing`, and the max runs on a third of the bytes. WarpFrame greys colour frames itself when given
them.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from minirl.envs.spaces import Box
from minirl.envs.wrappers.common import RecordEpisodeStatistics
from minirl.envs.wrappers.core import ObservationWrapper, RewardWrapper, Wrapper
from minirl.envs.wrappers.frame_stack import FrameStackObservation

INSTALL_HINT = 'the Atari games need Gymnasium and ale-py: pip install -e ".[atari]"'


def _single_env(wrapper, env) -> None:
    if env.is_vector_env:
        raise TypeError(f"{wrapper} wraps one game (it keeps that game's state); wrap each copy before "
                        f"vectorizing, as make_vec does with make_atari")


def action_meanings(env) -> list[str]:
    """The game's names of its actions (``['NOOP', 'FIRE', 'RIGHT', 'LEFT']`` in Breakout), found under our
    wrappers and the Gymnasium adapter."""
    base = env.unwrapped
    base = getattr(base, "gymnasium_env", base).unwrapped  # an adapted Gymnasium env: ALE's env beneath it
    if not hasattr(base, "get_action_meanings"):
        raise TypeError(f"{env} does not name its actions (no get_action_meanings): is it an Atari game?")
    return list(base.get_action_meanings())


class NoopReset(Wrapper):
    """After each reset, plays a random number of no-ops (1 to `noop_max`, drawn from the env's `np_random`).

    An Atari game starts from the same screen every time; without this the agent would see the same opening and
    could memorise one sequence of actions instead of learning to play (book L19203: more varied initial states,
    a more robust policy). Action 0 must be NOOP, as in every ALE game.
    """

    def __init__(self, env, noop_max: int = 30):
        super().__init__(env)
        _single_env("NoopReset", env)
        if isinstance(noop_max, bool) or not isinstance(noop_max, (int, np.integer)) or noop_max < 0:
            raise ValueError(f"NoopReset: noop_max must be an int ≥ 0, got {noop_max!r}")
        if action_meanings(env)[0] != "NOOP":
            raise ValueError(f"NoopReset: action 0 must be NOOP, the game's actions are {action_meanings(env)}")
        self.noop_max = int(noop_max)

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        noops = int(self.np_random.integers(1, self.noop_max + 1)) if self.noop_max > 0 else 0
        for _ in range(noops):
            obs, _, terminated, truncated, step_info = self.env.step(0)
            info = {**info, **step_info}  # "lives" etc. as they are now
            if terminated or truncated:
                obs, info = self.env.reset(seed=seed, options=options)
        return obs, info


class MaxAndSkip(Wrapper):
    """Repeats each action `skip` frames, sums their rewards, and observes the pixel-wise max of the last 2 frames.

    Why repeat: the game barely changes from one frame to the next (60 a second), so deciding every 4th frame
    loses little and gives 4× more play per decision and per network evaluation. Why the max: the Atari draws some
    objects only on every other frame (it had too few sprites), so one frame may miss the ball; the max of two
    consecutive frames shows it (book L19205). The episode's last step stops at the frame where it ended and
    maxes the last two frames it played.
    """

    def __init__(self, env, skip: int = 4):
        super().__init__(env)
        _single_env("MaxAndSkip", env)
        if isinstance(skip, bool) or not isinstance(skip, (int, np.integer)) or skip < 1:
            raise ValueError(f"MaxAndSkip: skip must be an int ≥ 1, got {skip!r}")
        self.skip = int(skip)

    def step(self, action):
        total_reward, last_two = 0.0, []
        for _ in range(self.skip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total_reward += reward
            last_two = [*last_two[-1:], obs]
            if terminated or truncated:
                break
        frame = last_two[0] if len(last_two) == 1 else np.maximum(last_two[0], last_two[1])
        return frame, total_reward, terminated, truncated, info


class EpisodicLife(Wrapper):
    """Losing a life ends the episode for the learner (terminated=True), but the game goes on: `reset()` after a
    lost life only plays one no-op from where the game stands, and resets the game once it is really over.

    Why: a lost life is a real setback, and marking it terminal tells the TD target so at once (no bootstrapping
    past it), instead of waiting for the end of a game of several lives (book L19211, Roderick et al. 2017). The
    lives are read from ``info["lives"]``, which ALE's envs report at every step. A reset with a seed always
    starts a new game. Put the score keeping (RecordEpisodeStatistics) below this wrapper: it then counts whole
    games.
    """

    def __init__(self, env):
        super().__init__(env)
        _single_env("EpisodicLife", env)
        self.lives = 0
        self.game_over = True

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = self._lives(info)
        if 0 < lives < self.lives:
            terminated = True  # for the learner; the game itself continues
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, *, seed=None, options=None):
        if self.game_over or seed is not None:
            obs, info = self.env.reset(seed=seed, options=options)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:  # the game ended on that very no-op
                obs, info = self.env.reset(options=options)
        self.game_over = False
        self.lives = self._lives(info)
        return obs, info

    @staticmethod
    def _lives(info) -> int:
        if "lives" not in info:
            raise KeyError("EpisodicLife needs info['lives'], the lives left, which ALE's Atari envs report")
        return int(info["lives"])


class FireReset(Wrapper):
    """Presses FIRE after every reset.

    Many games (Breakout among them) show a still screen until FIRE is pressed; an agent that has not yet learnt
    to press it would spend its first episodes watching nothing happen (book L19213: prior knowledge that starts
    the game at once). With EpisodicLife beneath it, the press also follows every lost life, which is when
    Breakout waits for a new ball.
    """

    def __init__(self, env):
        super().__init__(env)
        _single_env("FireReset", env)
        meanings = action_meanings(env)
        if "FIRE" not in meanings:
            raise ValueError(f"FireReset: the game has no FIRE action, its actions are {meanings}")
        self.fire_action = meanings.index("FIRE")

    def reset(self, *, seed=None, options=None):
        self.env.reset(seed=seed, options=options)
        obs, _, terminated, truncated, info = self.env.step(self.fire_action)
        if terminated or truncated:
            obs, info = self.env.reset(seed=seed, options=options)
        return obs, info


# -- WarpFrame: grey, then the area-averaged resize ---------------------------------------------------------------
def rgb_to_grey(frames: np.ndarray) -> np.ndarray:
    """Y = 0.2989 R + 0.587 G + 0.114 B rounded (the luma of ITU-R BT.601), computed as ALE computes its grey
    palette (ColourPalette.cpp), so that greying ALE's colour screen gives ALE's own grey screen."""
    rgb = np.asarray(frames, dtype=np.float64)
    return np.floor(rgb[..., 0] * 0.2989 + rgb[..., 1] * 0.5870 + rgb[..., 2] * 0.1140 + 0.5).astype(np.uint8)


def area_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Along one axis of `src` pixels shrunk to `dst`: for each output pixel, the source pixels it covers (indices,
    shape (dst, k)) and their weights (float32, the covered fraction of the output pixel, summing to 1).

    Output pixel d covers source coordinates [d·s, d·s + s) with s = src / dst ≥ 1; a source pixel sticking out
    on either side counts with the part inside. Overlaps of 10⁻³ or less are dropped and the arithmetic is
    OpenCV's (float64 positions, float32 weights), so that `resize_area` reproduces cv2.resize(INTER_AREA), the
    resize of the book's WarpFrame and of Gymnasium's AtariPreprocessing, byte for byte.
    """
    if dst < 1 or dst > src:
        raise ValueError(f"area_taps: can only shrink, {src} pixels to between 1 and {src}, got {dst}")
    scale = src / dst
    rows = []
    for d in range(dst):
        start = d * scale
        end = start + scale
        width = min(scale, src - start)
        taps = []
        for s in range(math.floor(start), min(math.ceil(end), src)):
            overlap = min(end, s + 1) - max(start, s)
            if overlap > 1e-3:
                taps.append((s, np.float32(overlap / width)))
        rows.append(taps)
    k = max(map(len, rows))
    index, weight = np.zeros((dst, k), np.intp), np.zeros((dst, k), np.float32)  # padding: weight 0
    for d, taps in enumerate(rows):
        for j, (s, w) in enumerate(taps):
            index[d, j], weight[d, j] = s, w
    return index, weight


def resize_area(frames: np.ndarray, rows: tuple, columns: tuple) -> np.ndarray:
    """Shrink uint8 frames (..., H, W) by averaging over areas: each output pixel is the mean of the source
    pixels under it, weighted by how much of each it covers. `rows` and `columns` are `area_taps` of the two axes.

    First along the width, then along the height, each a sum over the few taps in float32, in OpenCV's order.
    (When both factors are whole numbers OpenCV takes another path that rounds halves up; we round halves to even.)
    """
    frames = np.asarray(frames, dtype=np.float32)
    (row_index, row_weight), (column_index, column_weight) = rows, columns
    narrow = np.zeros((*frames.shape[:-1], column_index.shape[0]), np.float32)
    for j in range(column_index.shape[1]):
        narrow += frames[..., column_index[:, j]] * column_weight[:, j]
    out = np.zeros((*frames.shape[:-2], row_index.shape[0], column_index.shape[0]), np.float32)
    for j in range(row_index.shape[1]):
        out += narrow[..., row_index[:, j], :] * row_weight[:, j, None]
    return np.rint(out).astype(np.uint8)


class WarpFrame(ObservationWrapper):
    """Observations become `height`×`width` grey frames, uint8 (84×84 in DQN: the φ of book L18283, L19215).

    Colour carries little that the agent needs and the 210×160 screen has detail the network does not: 84×84
    grey is 1/14 of the numbers, so the convolutions, the replay memory and the learning all get cheaper.
    The input may be grey (H, W) or (H, W, 1), or RGB (H, W, 3), which is greyed first (`rgb_to_grey`).
    Each output pixel averages the screen area under it (`resize_area`, OpenCV's INTER_AREA): averaging, not
    picking one pixel, keeps thin objects such as Breakout's ball visible.
    """

    def __init__(self, env, width: int = 84, height: int = 84):
        super().__init__(env)
        space = env.single_observation_space if env.is_vector_env else env.observation_space
        if not isinstance(space, Box) or len(space.shape) not in (2, 3) or (
                len(space.shape) == 3 and space.shape[-1] not in (1, 3)):
            raise TypeError(f"WarpFrame needs image observations (H, W), (H, W, 1) or (H, W, 3), got {space}")
        self.channels = space.shape[2] if len(space.shape) == 3 else None
        self.width, self.height = int(width), int(height)
        self.rows = area_taps(space.shape[0], self.height)
        self.columns = area_taps(space.shape[1], self.width)
        self.set_spaces(observation_space=Box(0, 255, shape=(self.height, self.width), dtype=np.uint8))

    def observation(self, frames):
        frames = np.asarray(frames)
        if self.channels == 3:
            frames = rgb_to_grey(frames)
        elif self.channels == 1:
            frames = frames[..., 0]
        return resize_area(frames, self.rows, self.columns)


class ClipReward(RewardWrapper):
    """Rewards become their sign: −1, 0 or +1.

    Game scores differ by orders of magnitude (1 point a brick in Breakout, hundreds elsewhere); clipped, one set
    of hyperparameters (learning rate, Huber δ) serves every game and no single large reward yanks the network
    (book L19217). The agent then maximises how often it scores, not how much; its real score is kept by the
    RecordEpisodeStatistics beneath (info["episode"]).
    """

    def reward(self, reward):
        return np.sign(reward) if self.is_vector_env else float(np.sign(reward))


# -- the book's stack ------------------------------------------------------------------------------------------
def _positive_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"wrap_deepmind: {name} must be an int ≥ {low}, got {value!r}")
    return int(value)


def wrap_deepmind(env, *, noop_max: int = 30, frame_skip: int = 4, episode_statistics: bool = True,
                  episodic_life: bool = True, fire_reset: bool | None = None, screen_size: int = 84,
                  clip_rewards: bool = True, frame_stack: int = 4):
    """The book's wrapper stack (L19201–19245) around one Atari game `env` (our Env API, every frame shown).

    fire_reset: None presses FIRE after resets in the games that have a FIRE action. noop_max=0, frame_skip=1 and
    the False switches leave a wrapper out. The result observes (frame_stack, screen_size, screen_size) uint8.
    """
    noop_max = _positive_int("noop_max", noop_max, low=0)
    frame_skip = _positive_int("frame_skip", frame_skip)
    screen_size = _positive_int("screen_size", screen_size)
    frame_stack = _positive_int("frame_stack", frame_stack)
    if noop_max > 0:
        env = NoopReset(env, noop_max)
    if frame_skip > 1:
        env = MaxAndSkip(env, frame_skip)
    if episode_statistics:
        env = RecordEpisodeStatistics(env)  # the book's Monitor: whole games, real scores
    if episodic_life:
        env = EpisodicLife(env)
    if fire_reset or (fire_reset is None and "FIRE" in action_meanings(env)):
        env = FireReset(env)
    env = WarpFrame(env, screen_size, screen_size)
    if clip_rewards:
        env = ClipReward(env)
    return FrameStackObservation(env, frame_stack)


def make_atari(env_id: str = "BreakoutNoFrameskip-v4", *, render_mode: str | None = None, **options):
    """The Atari game `env_id` (a Gymnasium ALE id showing every frame, e.g. "BreakoutNoFrameskip-v4") behind the
    book's wrapper stack; `options` go to `wrap_deepmind`. The entry point of the registered Atari ids."""
    try:
        import ale_py
        import gymnasium
    except ImportError as error:
        raise ImportError(f"make_atari({env_id!r}): {INSTALL_HINT}") from error
    from minirl.envs.gymnasium_adapter import from_gymnasium

    gymnasium.register_envs(ale_py)  # ale-py ≥ 0.9 registers its ids with Gymnasium only when asked
    game = gymnasium.make(env_id, obs_type="grayscale", render_mode=render_mode)
    skip = options.get("frame_skip", 4)
    if isinstance(skip, int) and skip > 1 and getattr(game.unwrapped, "_frameskip", 1) != 1:
        game.close()
        raise ValueError(f"make_atari: {env_id!r} already skips frames, and MaxAndSkip would skip again; use an id "
                         f"that shows every frame (e.g. 'BreakoutNoFrameskip-v4') or frame_skip=1")
    return wrap_deepmind(from_gymnasium(game), **options)


# the games registered with minirl (any other ALE id works through make_atari)
ATARI_GAMES = ("Breakout", "Pong", "SpaceInvaders", "Seaquest", "Qbert", "BeamRider", "Enduro", "MsPacman",
               "Asteroids")


def register_atari_games() -> None:
    """Register "<Game>NoFrameskip-v4" → make_atari for the games of ATARI_GAMES, when ale-py is installed.

    Only ale-py's presence is checked; it is imported when a game is made. No time limit is added: ALE truncates
    a game after 108,000 frames (30 minutes of play) itself.
    """
    from minirl.envs.registration import register, registry

    if importlib.util.find_spec("ale_py") is None:
        return
    for game in ATARI_GAMES:
        env_id = f"{game}NoFrameskip-v4"
        if env_id not in registry:
            register(env_id, "minirl.envs.wrappers.atari:make_atari", env_id=env_id)
