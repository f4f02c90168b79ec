"""Callback data round-trips, stays under Telegram's 64 bytes, and refuses anything we did not sign."""

from __future__ import annotations

import pytest

from bot.callbacks import Action, Callback, CallbackSigner, ForgedCallback

SIGNER = CallbackSigner.from_token("123456:TEST-TOKEN")


@pytest.mark.parametrize("callback", [
    pytest.param(Callback(Action.CHECKIN, 1), id="check-in"),
    pytest.param(Callback(Action.APPROVE_LEAVE, 2_147_483_647, 2_147_483_647), id="largest-ids"),
])
def test_round_trip_within_64_bytes(callback):
    data = SIGNER.encode(callback)
    assert len(data.encode()) <= 64
    assert SIGNER.decode(data) == callback


def tampered(data: str) -> str:
    body, signature = data.rsplit(".", 1)
    return body.replace("ci:7", "ci:8") + "." + signature


@pytest.mark.parametrize("data", [
    pytest.param(tampered(SIGNER.button(Action.CHECKIN, 7)), id="other-activity-same-signature"),
    pytest.param(CallbackSigner.from_token("999:OTHER").button(Action.CHECKIN, 7), id="other-deployment"),
    pytest.param("ci:7:0", id="unsigned"),
    pytest.param("", id="empty"),
    pytest.param(None, id="missing"),
    pytest.param("zz:7:0." + "A" * 12, id="unknown-action-bad-signature"),
])
def test_forged_data_is_refused(data):
    with pytest.raises(ForgedCallback):
        SIGNER.decode(data)
