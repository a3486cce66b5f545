"""Reference implementations on PyTorch + Gymnasium, used only by benchmarks for side-by-side timing."""
