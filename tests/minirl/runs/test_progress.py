"""The progress bar: what it shows, and that it draws a bounded number of times."""

import io

from minirl.runs.progress import ProgressBar


def test_render_shows_steps_rate_fields_and_bar():
    bar = ProgressBar(1000, description="train", stream=io.StringIO())
    bar.update(250, **{"return": 12.5})
    text = bar.render()
    assert "250/1,000" in text and "steps/s" in text and "return 12.5" in text and "[######" in text


def test_log_stream_gets_lines_not_a_redraw_per_step():
    stream = io.StringIO()  # not a terminal: a line at most every min_interval, plus the final one
    bar = ProgressBar(500, stream=stream)
    for step in range(1, 600):
        bar.update(step)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert 1 <= len(lines) <= 3
    assert "500/500" in lines[-1] or "599/500" in lines[-1]


def test_disabled_bar_writes_nothing():
    stream = io.StringIO()
    bar = ProgressBar(10, stream=stream, enabled=False)
    bar.update(10)
    bar.close()
    assert stream.getvalue() == ""
