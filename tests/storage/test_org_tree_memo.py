"""The organisation tree is reused from its session factory's memo while the roster is unchanged, never across factories."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from storage import models
from storage.db import make_session_factory, transaction
from storage.services.actors import OrgTree


def _seed(factory) -> None:
    with transaction(factory) as session:
        top = models.Organization(code="D01", name="机关党委", type="党委")
        session.add(top)
        session.flush()
        session.add(models.Organization(code="B01", name="第一党支部", type="党支部", parent_id=top.id))


def _load(factory) -> OrgTree:
    with transaction(factory) as session:
        return OrgTree.load(session)


def _rename(factory, code: str, name: str) -> None:
    with transaction(factory) as session:
        session.query(models.Organization).filter_by(code=code).one().name = name


@pytest.mark.parametrize("change", [
    pytest.param(None, id="unchanged-roster-same-tree"),
    pytest.param(("B01", "第一党支部（新）"), id="renamed-branch-read-again"),
])
def test_tree_is_reused_until_the_roster_changes(session_factory, change):
    _seed(session_factory)
    first = _load(session_factory)
    if change is not None:
        _rename(session_factory, *change)
    second = _load(session_factory)
    assert (second is first) == (change is None)
    assert sorted(second.name.values()) == sorted(
        ["机关党委", "第一党支部" if change is None else change[1]])


def test_each_factory_keeps_its_own_tree(engine, session_factory):
    _seed(session_factory)
    other = make_session_factory(engine)
    assert _load(other) is not _load(session_factory)
    assert _load(other) is _load(other)


def test_a_session_without_a_factory_memo_reads_the_rows(engine, session_factory):
    _seed(session_factory)
    with Session(engine) as session:
        assert OrgTree.load(session) is not OrgTree.load(session)
        assert set(OrgTree.load(session).code.values()) == {"D01", "B01"}
