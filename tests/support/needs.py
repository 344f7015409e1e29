"""Tests that need a real service or tool the machine may lack (PostgreSQL, redis-server, nginx,
Chromium): skipped on a developer's machine without it, never in CI. `.ci/run` installs and
starts every one of them and sets CI, so there a missing part fails its tests instead of letting
them quietly not run."""

import os
import shutil

import pytest

IN_CI = bool(os.environ.get("CI"))


def needs(missing: bool, reason: str) -> pytest.MarkDecorator:
    """Skip when `missing`, except in CI."""
    return pytest.mark.skipif(missing and not IN_CI, reason=reason)


def needs_tool(name: str) -> pytest.MarkDecorator:
    return needs(shutil.which(name) is None, f"needs {name}")
