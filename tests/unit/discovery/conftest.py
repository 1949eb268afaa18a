from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.discovery.trees import FixtureTree, build_fixture_tree


@pytest.fixture
def tree(tmp_path: Path, secret) -> FixtureTree:  # type: ignore[no-untyped-def]
    return build_fixture_tree(tmp_path / "tree", secret)
