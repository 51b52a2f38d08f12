"""Shared test setup: strict mode (CI) turns every skip into a failure."""
import os

import pytest

STRICT = os.environ.get("MINIGRAD_STRICT") == "1"


def pytest_runtest_makereport(item, call):
    """In strict mode a skipped test is reported as failed, so CI never hides a missing piece."""
    if not STRICT or call.excinfo is None or not call.excinfo.errisinstance(pytest.skip.Exception):
        return None
    if item.get_closest_marker("skip") or item.get_closest_marker("skipif"):
        return None
    from _pytest.reports import TestReport

    report = TestReport.from_item_and_call(item, call)
    report.outcome = "failed"
    report.longrepr = f"skipped in strict mode (MINIGRAD_STRICT=1): {call.excinfo.value}"
    return report


def require(module_name):
    """Import an optional dependency, or skip (fail under MINIGRAD_STRICT=1) saying what is missing."""
    return pytest.importorskip(module_name, reason=f"optional dependency {module_name!r} is not installed")


def data_dir():
    """The reference data folder ($MINIGRAD_DATA), or skip (fail in strict mode) when it is absent."""
    root = os.environ.get("MINIGRAD_DATA")
    if not root or not os.path.isdir(root):
        pytest.skip("real data not found: set MINIGRAD_DATA to the folder holding mnist/ and catvnoncat/")
    return root


def gallery_script(*parts, out_dir):
    """A docs/gallery picture script (path parts below docs/gallery) imported as a module whose
    pictures go to out_dir; needs graphviz (skips, or fails in strict mode, without it)."""
    import importlib.util
    from pathlib import Path
    require("graphviz")
    script = Path(__file__).parents[1].joinpath("docs", "gallery", *parts)
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = out_dir
    return module, sorted(p.name for p in script.parent.glob("*.svg"))
