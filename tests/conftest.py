"""Test-suite configuration: the `slow` and `gpu` markers and the hypothesis profiles.

- `slow` tests (long learning runs) are deselected unless the command line selects markers with ``-m``
  (``pytest -m slow`` runs only them, ``pytest -m "slow or not slow"`` runs everything).
- `gpu` tests run only where CuPy finds a GPU; elsewhere they are skipped with the reason.
- Hypothesis uses the "ci" profile (fewer examples, no deadline) when the CI variable is set, else "dev";
  ``HYPOTHESIS_PROFILE=thorough`` runs many more examples.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _gpu_reason():
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install -e '.[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "CuPy found no CUDA device"
    except Exception as exc:  # no driver, no device
        return f"CuPy found no usable GPU: {exc}"
    return None


def pytest_collection_modifyitems(config, items):
    if not config.getoption("-m"):
        selected = [item for item in items if "slow" not in item.keywords]
        deselected = [item for item in items if "slow" in item.keywords]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected
    reason = None
    for item in items:
        if "gpu" in item.keywords:
            reason = reason or _gpu_reason()
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
