"""The run logger: metrics.csv with late columns, and TensorBoard events when tensorboardX is installed."""

import struct

import pytest

from minirl.io.logger import RunLogger, curve, read_metrics


def test_metrics_csv_gains_columns_that_appear_late(tmp_path):
    logger = RunLogger(tmp_path, tensorboard=False)
    logger.log(10, episode_return=1.0)
    logger.log(20, episode_return=2.0, loss=0.5)
    logger.close()
    rows = read_metrics(tmp_path)
    assert [r["step"] for r in rows] == [10, 20]
    assert rows[1]["loss"] == 0.5 and rows[0]["episode_return"] == 1.0
    steps, values = curve(rows)
    assert steps.tolist() == [10, 20] and values.tolist() == [1.0, 2.0]


def read_scalars(event_file):
    """Read (tag, step, value) from a TensorBoard event file (TFRecord: length, crc, payload, crc)."""
    from tensorboardX.proto import event_pb2

    scalars = []
    data = event_file.read_bytes()
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        payload = data[offset + 12: offset + 12 + length]
        offset += 12 + length + 4
        event = event_pb2.Event.FromString(payload)
        for value in event.summary.value:
            scalars.append((value.tag, event.step, value.simple_value))
    return scalars


def test_tensorboard_events_hold_the_logged_scalars(tmp_path):
    pytest.importorskip("tensorboardX", reason="tensorboardX is in the dev extra; without it no events are written")
    logger = RunLogger(tmp_path)
    logger.log(100, episode_return=3.5)
    logger.log(200, episode_return=7.25)
    logger.close()
    (event_file,) = (tmp_path / "tb").iterdir()
    assert read_scalars(event_file) == [("episode_return", 100, 3.5), ("episode_return", 200, 7.25)]
