"""Our copies of the shared reference files stay identical to the shared ones."""

from __future__ import annotations

import pytest

from tests.reference import COPIED_REFERENCE, REFERENCE_FILES, SHARED_REFERENCE


@pytest.mark.parametrize("name", REFERENCE_FILES)
def test_the_copy_matches_the_shared_reference(name: str) -> None:
    shared = SHARED_REFERENCE / name
    if not shared.exists():
        pytest.skip(f"shared/ is not beside this checkout; the tests use tests/fixtures/reference/{name}")
    assert (COPIED_REFERENCE / name).read_bytes() == shared.read_bytes(), (
        f"shared/reference/{name} changed: copy it to tests/fixtures/reference/ and let the tests judge it"
    )
