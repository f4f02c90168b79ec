"""The bundled holiday packages as they are on 2026-12-01 (through 2026), whatever a later upgrade learns."""

from __future__ import annotations

import pytest


@pytest.fixture
def packages_through_2026(monkeypatch):  # noqa: ANN001, ANN201
    from schedules import calendar

    for name in ("arrangements_from_chinesecalendar", "arrangements_from_holidays_package"):
        original = getattr(calendar, name)
        monkeypatch.setattr(calendar, name, lambda original=original: {
            year: arrangement for year, arrangement in original().items() if year <= 2026})
