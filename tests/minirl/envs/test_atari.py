"""The Atari stack of book ch. 4.8 (L19201–19245) and the Nature CNN (L19299–19345).

Where Gymnasium has the same preprocessing (AtariPreprocessing: no-ops, frame skipping with a max over the last
two frames, grey 84×84; FrameStackObservation) our wrappers are run beside it on the same game, seed and actions,
and must give the same bytes. Its resize is OpenCV's INTER_AREA; OpenCV is not a dependency of ours, so when it is
not installed Gymnasium's wrapper is handed a stand-in `cv2` whose resize is ours, and our resize is checked
against OpenCV's separately, through the digest of OpenCV's output on a fixed frame (and directly where OpenCV is
installed). The other wrappers (EpisodicLife, FireReset, ClipReward) have no Gymnasium twin and are checked on a
scripted game whose frames, rewards and lives are known.
"""

import hashlib
import subprocess
import sys
import types

import ale_py
import gymnasium
import numpy as np
import pytest

import autodiff as ad
import minirl.envs as envs
from minirl import nn
from minirl.algos.networks import NatureCNN
from minirl.envs.core import Env
from minirl.envs.gymnasium_adapter import from_gymnasium
from minirl.envs.spaces import Box, Discrete
from minirl.envs.wrappers import (
    ClipReward,
    EpisodicLife,
    FireReset,
    FrameStackObservation,
    MaxAndSkip,
    NoopReset,
    WarpFrame,
    make_atari,
    wrap_deepmind,
)
from minirl.envs.wrappers.atari import area_taps, resize_area, rgb_to_grey

gymnasium.register_envs(ale_py)
BREAKOUT = "BreakoutNoFrameskip-v4"


class ScriptedGame(Env):
    """A fake ALE game: frame t is a fixed pattern shifted by 37·t, so consecutive frames differ pixel by pixel;
    the reward at frame t is rewards.get(t, 0); lives drop at the frames of `life_lost_at`; the game is over
    when the lives reach 0 or after `length` frames. Records the actions it is given and its resets."""

    def __init__(self, length=1000, lives=3, life_lost_at=(), rewards=None, shape=(210, 160),
                 meanings=("NOOP", "FIRE", "RIGHT", "LEFT")):
        self.length, self.start_lives, self.life_lost_at = length, lives, set(life_lost_at)
        self.rewards, self.meanings = rewards or {}, list(meanings)
        self.pattern = (np.arange(int(np.prod(shape))).reshape(shape) * 7) % 256
        self.observation_space = Box(0, 255, shape=shape, dtype=np.uint8)
        self.action_space = Discrete(len(meanings))
        self.actions, self.resets, self.t, self.lives = [], 0, 0, lives

    def get_action_meanings(self):
        return self.meanings

    def frame(self, t):
        return ((self.pattern + 37 * t) % 256).astype(np.uint8)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.resets, self.t, self.lives = self.resets + 1, 0, self.start_lives
        return self.frame(0), {"lives": self.lives}

    def step(self, action):
        self.actions.append(int(action))
        self.t += 1
        if self.t in self.life_lost_at:
            self.lives -= 1
        terminated = self.lives == 0 or self.t >= self.length
        return self.frame(self.t), float(self.rewards.get(self.t, 0.0)), terminated, False, {"lives": self.lives}


# -- the area resize against OpenCV's INTER_AREA and hand-built frames ------------------------------------------
def test_area_taps_of_the_atari_screen_are_the_covered_fractions():
    index, weight = area_taps(210, 84)   # 2.5 source rows per output row
    np.testing.assert_array_equal(index[:2], [[0, 1, 2], [2, 3, 4]])
    np.testing.assert_allclose(weight[:2], [[0.4, 0.4, 0.2], [0.2, 0.4, 0.4]], rtol=1e-6)
    for src in (210, 160):
        _, weight = area_taps(src, 84)
        np.testing.assert_allclose(weight.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="shrink"):
        area_taps(84, 168)


def test_resize_area_averages_by_hand():
    # one row of 5 pixels → 2: 0.4·0 + 0.4·10 + 0.2·20 = 8 and 0.2·20 + 0.4·30 + 0.4·40 = 32
    row = np.array([[0, 10, 20, 30, 40]], dtype=np.uint8)
    np.testing.assert_array_equal(resize_area(row, area_taps(1, 1), area_taps(5, 2)), [[8, 32]])
    # whole-number factors: the mean of each 2×3 block
    frame = np.array([[1, 2, 3, 10, 20, 30], [4, 5, 7, 40, 50, 60]], dtype=np.uint8)
    np.testing.assert_array_equal(resize_area(frame, area_taps(2, 1), area_taps(6, 2)), [[4, 35]])  # 22/6, 210/6
    constant = np.full((210, 160), 77, np.uint8)
    np.testing.assert_array_equal(resize_area(constant, area_taps(210, 84), area_taps(160, 84)), 77)
    batch = np.stack([constant, constant[::-1] // 2, np.zeros_like(constant)])
    taps = area_taps(210, 84), area_taps(160, 84)
    np.testing.assert_array_equal(resize_area(batch, *taps), np.stack([resize_area(f, *taps) for f in batch]))


def fixed_frame():
    i, j = np.arange(210)[:, None], np.arange(160)[None, :]
    return ((i * i * 7 + j * j * 13 + i * j * 5 + (i // 7) * (j // 9) * 31) % 256).astype(np.uint8)


# sha256 of cv2.resize(fixed_frame(), (84, 84), interpolation=cv2.INTER_AREA), OpenCV 5.1.0 (4.x gives the same);
# a plain float64 area average differs from it in 50 pixels by one grey level
OPENCV_INTER_AREA_DIGEST = "c28343df1b7f0392eb35a4a01d0161358f7b2b6976641fb0a2d31e5e5873df69"


def test_resize_area_reproduces_opencv_inter_area():
    ours = resize_area(fixed_frame(), area_taps(210, 84), area_taps(160, 84))
    assert hashlib.sha256(ours.tobytes()).hexdigest() == OPENCV_INTER_AREA_DIGEST
    try:
        import cv2
    except ImportError:
        return  # the digest above is OpenCV's answer
    rng = np.random.default_rng(0)
    for h, w in [(84, 84), (64, 64), (100, 90)]:
        frame = rng.integers(0, 256, (210, 160), dtype=np.uint8)
        np.testing.assert_array_equal(resize_area(frame, area_taps(210, h), area_taps(160, w)),
                                      cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA))


def test_rgb_to_grey_gives_ale_grey_screen():
    game = gymnasium.make(BREAKOUT)
    game.reset(seed=0)
    ale, rng = game.unwrapped.ale, np.random.default_rng(0)
    for t in range(200):
        game.step(int(rng.integers(4)))
        if t % 50 == 0:
            np.testing.assert_array_equal(rgb_to_grey(ale.getScreenRGB()), ale.getScreenGrayscale())
    game.close()


# -- against Gymnasium's AtariPreprocessing and FrameStackObservation ---------------------------------------------
@pytest.fixture
def opencv_or_ours(monkeypatch):
    """OpenCV if installed, else a stand-in `cv2` module whose INTER_AREA resize is ours (tested above)."""
    try:
        import cv2  # noqa: F401
    except ImportError:
        stand_in = types.ModuleType("cv2")
        stand_in.INTER_AREA = 3

        def resize(frame, size, interpolation):
            width, height = size
            return resize_area(frame, area_taps(frame.shape[0], height), area_taps(frame.shape[1], width))

        stand_in.resize = resize
        monkeypatch.setitem(sys.modules, "cv2", stand_in)


def test_noop_skip_max_warp_and_stack_equal_gymnasium_atari_preprocessing(opencv_or_ours):
    theirs = gymnasium.wrappers.FrameStackObservation(gymnasium.wrappers.AtariPreprocessing(
        gymnasium.make(BREAKOUT), noop_max=30, frame_skip=4, screen_size=84, grayscale_obs=True), 4)
    ours = FrameStackObservation(WarpFrame(MaxAndSkip(NoopReset(
        from_gymnasium(gymnasium.make(BREAKOUT, obs_type="grayscale")), 30), 4), 84, 84), 4)
    assert ours.observation_space.shape == theirs.observation_space.shape == (4, 84, 84)
    rng = np.random.default_rng(0)
    obs_ours, _ = ours.reset(seed=3)
    obs_theirs, _ = theirs.reset(seed=3)
    episodes = compared = 0
    for _ in range(700):
        np.testing.assert_array_equal(obs_ours, obs_theirs)
        compared += 1
        action = int(rng.integers(4))
        obs_ours, r_ours, term_ours, trunc_ours, info_ours = ours.step(action)
        obs_theirs, r_theirs, term_theirs, trunc_theirs, info_theirs = theirs.step(action)
        assert (r_ours, term_ours, trunc_ours) == (r_theirs, term_theirs, trunc_theirs)
        assert info_ours["lives"] == info_theirs["lives"]
        if term_ours or trunc_ours:
            # the last observation differs: Gymnasium keeps the frames of the step before, we max the last two
            # frames played. Both then reset, without a seed: the no-op draws continue the same generator.
            episodes += 1
            obs_ours, _ = ours.reset()
            obs_theirs, _ = theirs.reset()
    assert episodes >= 2 and compared == 700


# -- the wrappers without a Gymnasium twin, on a scripted game ----------------------------------------------------
def test_noop_reset_plays_a_random_number_of_noops_from_the_env_generator():
    game = ScriptedGame()
    env = NoopReset(game, noop_max=30)
    obs, info = env.reset(seed=5)
    expected = int(np.random.Generator(np.random.PCG64(np.random.SeedSequence(5))).integers(1, 31))
    assert game.actions == [0] * expected and game.t == expected
    np.testing.assert_array_equal(obs, game.frame(expected))
    assert info["lives"] == 3
    game = ScriptedGame(length=2)  # the game ends during the no-ops: it is reset again
    NoopReset(game, noop_max=30).reset(seed=5)
    assert game.resets > 1
    with pytest.raises(ValueError, match="NOOP"):
        NoopReset(ScriptedGame(meanings=("FIRE", "NOOP")))


def test_max_and_skip_repeats_sums_and_maxes_the_last_two_frames():
    game = ScriptedGame(length=10, rewards={1: 1.0, 3: 2.0, 4: 4.0, 9: 8.0})
    env = MaxAndSkip(game, skip=4)
    env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(2)
    assert game.actions == [2, 2, 2, 2] and reward == 7.0 and not terminated
    np.testing.assert_array_equal(obs, np.maximum(game.frame(3), game.frame(4)))
    assert not np.array_equal(obs, game.frame(4))  # the max shows pixels that the last frame alone does not
    env.step(3)
    obs, reward, terminated, _, _ = env.step(1)  # frames 9 and 10: the game ends at frame 10
    assert terminated and reward == 8.0 and game.actions[-2:] == [1, 1]
    np.testing.assert_array_equal(obs, np.maximum(game.frame(9), game.frame(10)))
    one = MaxAndSkip(ScriptedGame(), skip=1)
    one.reset(seed=0)
    np.testing.assert_array_equal(one.step(0)[0], one.env.frame(1))


def test_episodic_life_ends_the_episode_at_a_lost_life_and_resets_only_at_game_over():
    game = ScriptedGame(life_lost_at=(3, 6, 8))
    env = EpisodicLife(game)
    env.reset(seed=0)
    flags = [env.step(2)[2] for _ in range(3)]
    assert flags == [False, False, True] and game.resets == 1
    obs, info = env.reset()  # a life lost: no reset, one no-op from where the game stands
    assert game.resets == 1 and game.actions[-1] == 0 and info["lives"] == 2
    np.testing.assert_array_equal(obs, game.frame(4))
    assert [env.step(2)[2] for _ in range(2)] == [False, True]  # frame 6: the second life
    env.reset()
    assert env.step(2)[2] and game.lives == 0  # frame 8: the last life, the game is over
    env.reset()
    assert game.resets == 2 and game.t == 0
    env.reset(seed=1)  # a seed always starts a new game
    assert game.resets == 3


def test_fire_reset_presses_fire_after_each_reset():
    game = ScriptedGame(meanings=("NOOP", "RIGHT", "FIRE"))
    env = FireReset(game)
    obs, _ = env.reset(seed=0)
    assert game.actions == [2]
    np.testing.assert_array_equal(obs, game.frame(1))
    with pytest.raises(ValueError, match="FIRE"):
        FireReset(ScriptedGame(meanings=("NOOP", "LEFT")))


def test_clip_reward_keeps_the_sign():
    game = ScriptedGame(rewards={1: 7.0, 2: -0.5})
    env = ClipReward(game)
    env.reset(seed=0)
    assert [env.step(0)[1] for _ in range(3)] == [1.0, -1.0, 0.0]
    vector = ClipReward(envs.make_vec("CartPole-v1", 3, seed=0))
    np.testing.assert_array_equal(vector.reward(np.array([3.0, 0.0, -2.0])), [1.0, 0.0, -1.0])


def test_warp_frame_greys_and_shrinks_colour_and_channel_frames():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (210, 160), dtype=np.uint8)
    rgb = rng.integers(0, 256, (210, 160, 3), dtype=np.uint8)
    taps = area_taps(210, 84), area_taps(160, 84)
    for frame, expected in [(grey, resize_area(grey, *taps)), (grey[..., None], resize_area(grey, *taps)),
                            (rgb, resize_area(rgb_to_grey(rgb), *taps))]:
        game = ScriptedGame(shape=frame.shape)
        warp = WarpFrame(game)
        assert warp.observation_space == Box(0, 255, shape=(84, 84), dtype=np.uint8)
        np.testing.assert_array_equal(warp.observation(frame), expected)
    with pytest.raises(TypeError, match="image"):
        WarpFrame(envs.make("CartPole-v1"))


def test_the_book_stack_on_a_scripted_game():
    game = ScriptedGame(length=400, lives=2, life_lost_at=(41,), rewards={10: 5.0, 30: 3.0, 60: -2.0})
    env = wrap_deepmind(game, noop_max=0)
    assert env.observation_space == Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
    obs, _ = env.reset(seed=0)
    assert game.actions == [1] * 4 and obs.shape == (4, 84, 84) and obs.dtype == np.uint8  # FIRE, held 4 frames
    # step k plays frames 4k + 5 ... 4k + 8: the life is lost in step 9 (frames 41–44)
    rewards, ends = [], []
    for step in range(12):
        obs, reward, terminated, truncated, info = env.step(3)
        rewards.append(reward)
        if terminated:
            ends.append(step)
            assert "episode" not in info  # a lost life, not a game over
            obs, _ = env.reset()
            np.testing.assert_array_equal(obs[0], obs[3])  # a new stack
    assert ends == [9] and game.resets == 1
    assert game.actions[40:52] == [3] * 4 + [0] * 4 + [1] * 4  # the lost life; EpisodicLife's no-op; FIRE
    assert rewards == [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, -1]  # clipped: frames 10, 30 and 60
    while not terminated:
        _, _, terminated, _, info = env.step(3)
    assert info["episode"]["r"] == 6.0  # the real score of the whole game, 5 + 3 − 2


# -- make_atari and the registry ---------------------------------------------------------------------------------
def test_registered_breakout_is_the_book_stack_single_and_vectorized():
    env = envs.make(BREAKOUT)
    assert env.observation_space == Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
    assert env.action_space == Discrete(4)
    chain, inner = [], env
    while hasattr(inner, "env"):
        chain.append(type(inner).__name__)
        inner = inner.env
    assert chain == ["FrameStackObservation", "ClipReward", "WarpFrame", "FireReset", "EpisodicLife",
                     "RecordEpisodeStatistics", "MaxAndSkip", "NoopReset"]
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info["lives"] == 5
    obs, reward, *_ = env.step(1)
    assert env.observation_space.contains(obs) and reward in (-1.0, 0.0, 1.0)
    env.close()
    vec = envs.make_vec(BREAKOUT, 2, seed=0)
    obs, _ = vec.reset()
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    vec.step(np.array([1, 1]))
    vec.close()


def test_registering_does_not_import_ale_py():
    code = ("import sys, minirl.envs as e; assert 'BreakoutNoFrameskip-v4' in e.list(); "
            "assert 'ale_py' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_make_atari_errors_say_what_to_do(monkeypatch):
    with pytest.raises(ValueError, match="NoFrameskip"):
        make_atari("ALE/Breakout-v5")
    monkeypatch.setitem(sys.modules, "ale_py", None)  # as if ale-py were not installed
    with pytest.raises(ImportError, match=r'pip install -e "\.\[atari\]"'):
        make_atari(BREAKOUT)
    with pytest.raises(TypeError, match="one game"):
        NoopReset(envs.make_vec("CartPole-v1", 2))


# -- the Nature CNN ------------------------------------------------------------------------------------------------
def test_nature_cnn_shapes_and_parameter_count():
    torso = NatureCNN(4, rng=np.random.default_rng(0))
    assert torso.out_features == 512 and torso.flat_features == 7 * 7 * 64 == 3136
    frames = np.random.default_rng(1).integers(0, 256, (3, 4, 84, 84), dtype=np.uint8)
    assert torso.cnn(ad.tensor(frames.astype(np.float32))).shape == (3, 3136)
    assert torso(frames).shape == (3, 512)
    count = sum(p.data.size for p in torso.parameters())
    assert count == (4 * 32 * 64 + 32) + (32 * 64 * 16 + 64) + (64 * 64 * 9 + 64) + (3136 * 512 + 512) == 1_684_128
    q_network = nn.Sequential(torso, nn.Linear(512, 4))
    assert sum(p.data.size for p in q_network.parameters()) == 1_686_180  # Mnih et al. 2015 with 4 actions
    with pytest.raises(ValueError, match="expected frames"):
        torso(np.zeros((2, 84, 84, 4), np.uint8))
    assert NatureCNN(2, image_size=(64, 48)).flat_features == 64 * 4 * 2  # 64→15→6→4, 48→11→4→2


def test_nature_cnn_scales_uint8_and_float_alike_and_inits_orthogonally():
    torso = NatureCNN(rng=np.random.default_rng(0))
    frames = np.random.default_rng(1).integers(0, 256, (2, 4, 84, 84), dtype=np.uint8)
    expected = torso(frames).numpy()
    np.testing.assert_allclose(torso(frames.astype(np.float32)).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(torso(ad.tensor(frames.astype(np.float32))).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(torso(ad.tensor(frames)).numpy(), expected, rtol=1e-6)  # a uint8 Tensor
    weight = torso.cnn[0].weight.data.reshape(32, -1)  # 32 rows of 256: orthogonal rows of norm √2
    np.testing.assert_allclose(weight @ weight.T, 2 * np.eye(32), atol=1e-5)
    assert all(np.all(b.data == 0) for name, b in torso.named_parameters() if name.endswith("bias"))


def test_nature_cnn_gradients_reach_every_parameter():
    torso = NatureCNN(rng=np.random.default_rng(0))
    head = nn.Linear(512, 4, rng=np.random.default_rng(1))
    frames = np.random.default_rng(2).integers(0, 256, (4, 4, 84, 84), dtype=np.uint8)
    head(torso(frames)).sum().backward()
    for name, p in [*torso.named_parameters(), *head.named_parameters()]:
        assert p.grad is not None and np.isfinite(p.grad.numpy()).all(), name
        assert np.abs(p.grad.numpy()).max() > 0, name


# -- DQN on Breakout (the agent's image path is built by the DQN of minirl.algos.dqn) ----------------------------
def test_dqn_smoke_on_breakout():
    from minirl.algos.dqn import DQN

    # a few thousand frames (4 per step): the uint8 frames go through the replay memory into the Nature CNN
    agent = DQN(BREAKOUT, seed=0, buffer_size=2000, learning_starts=1000, batch_size=32, train_frequency=4,
                target_update_interval=500)
    agent.learn(1200)
    assert agent.num_timesteps == 1200
    assert agent.buffer.obs.dtype == np.uint8 and agent.buffer.obs.shape[1:] == (4, 84, 84)
    assert np.isfinite(agent.last_loss)
    before = [p.data.copy() for p in agent.q_network.parameters()]
    agent.learn(1204)  # one more gradient step moves the network
    assert any(not np.array_equal(b, p.data) for b, p in zip(before, agent.q_network.parameters()))
    assert agent.act(agent._obs[0]) in range(agent.num_actions)
