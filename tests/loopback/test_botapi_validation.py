"""Every request is checked against api.json: what Telegram would refuse, the server refuses, with its wording."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from loopback import BotApiServer
from loopback.spec import PACKAGED_SPEC, SHARED_SPEC, SpecError, find_spec_path, load_spec

KEYBOARD = {"inline_keyboard": [[{"text": "✅ 签到", "callback_data": "checkin:1"}]]}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post_json(http, server: BotApiServer, method: str, params: dict, token: str | None = None):
    async with http.post(f"{server.base_url}{token or server.token}/{method}", json=params) as response:
        return response.status, await response.json()


async def post_form(http, server: BotApiServer, method: str, params: dict):
    async with http.post(f"{server.base_url}{server.token}/{method}", data=params) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("method", "params", "status", "description"),
    [
        pytest.param("sendMessag", {"chat_id": 2001, "text": "x"}, 404, "Not Found", id="unknown-method"),
        pytest.param("sendMessage", {"text": "x"}, 400, 'Bad Request: parameter "chat_id" is required',
                     id="missing-chat-id"),
        pytest.param("sendMessage", {"chat_id": 2001}, 400, "Bad Request: message text is empty",
                     id="missing-text"),
        pytest.param("sendMessage", {"chat_id": True, "text": "x"}, 400,
                     'Bad Request: field "chat_id" must be Integer or String, got Boolean', id="chat-id-boolean"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": 5}, 400,
                     'Bad Request: field "text" must be String, got Integer', id="text-integer"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "x", "disable_notification": "yes"}, 400,
                     'Bad Request: field "disable_notification" must be Boolean, got String', id="boolean-as-text"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "x",
                                     "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": 7}]]}},
                     400, 'Bad Request: field "reply_markup.inline_keyboard[0][0].callback_data" must be String, '
                          "got Integer", id="nested-button-data-integer"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "x", "reply_markup": {"inline_keyboard": [{"text": "a"}]}},
                     400, 'Bad Request: field "reply_markup.inline_keyboard[0]" must be Array of InlineKeyboardButton, '
                          "got Object", id="keyboard-row-not-an-array"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "x",
                                     "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}}, 400,
                     "Bad Request: text buttons are unallowed in the inline keyboard", id="button-without-action"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "x", "reply_markup": {"inline_keyboard": [[
            {"text": "a", "callback_data": "c", "url": "https://example.org"}]]}}, 400,
                     "Bad Request: inline keyboard button must have exactly one action, got callback_data, url",
                     id="button-with-two-actions"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "x", "parse_mod": "HTML"}, 400,
                     "Bad Request: unknown parameter(s) parse_mod for sendMessage (the sandbox is strict: "
                     "Bot API 10.1 has no such field)", id="strict-unknown-parameter"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "x", "reply_markup": {**KEYBOARD, "colour": "red"}},
                     400, "Bad Request: unknown parameter(s) reply_markup.colour for sendMessage (the sandbox is "
                          "strict: Bot API 10.1 has no such field)", id="strict-unknown-nested-field"),
        pytest.param("setMyCommands", {"commands": [], "scope": {"type": "everyone"}}, 400,
                     'Bad Request: field "scope.type" must be one of all_chat_administrators, all_group_chats, '
                     "all_private_chats, chat, chat_administrators, chat_member, default for BotCommandScope",
                     id="unknown-scope-type"),
        pytest.param("sendPoll", {"chat_id": 2001, "question": "?", "options": [{"text": "a"}, {"text": "b"}]},
                     400, "Bad Request: method not supported by the sandbox (sendPoll)", id="valid-but-unimplemented"),
        pytest.param("sendPoll", {"chat_id": 2001, "question": "?"}, 400,
                     'Bad Request: parameter "options" is required', id="unimplemented-still-validated"),
    ],
)
async def test_refusals(server, http, alice, method, params, status, description) -> None:
    assert await post_json(http, server, method, params) == (
        status, {"ok": False, "error_code": status, "description": description})


async def test_wrong_token_is_401(server, http) -> None:
    assert await post_json(http, server, "getMe", {}, token="7000000001:nope") == (
        401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_method_names_are_case_insensitive_like_telegram(server, http, alice) -> None:
    status, body = await post_json(http, server, "SENDMESSAGE", {"chat_id": alice["id"], "text": "x"})
    assert (status, body["result"]["text"]) == (200, "x")
    assert server.requests[-1].method == "sendMessage"


async def test_form_encoded_values_are_read_as_json_where_the_type_is_not_string(server, http, alice) -> None:
    status, body = await post_form(http, server, "sendMessage", {
        "chat_id": str(alice["id"]), "text": "123", "disable_notification": "true", "reply_markup": json.dumps(KEYBOARD),
    })
    assert status == 200 and body["result"]["text"] == "123"
    assert server.requests[-1].params == {"chat_id": alice["id"], "text": "123", "disable_notification": True,
                                          "reply_markup": KEYBOARD}


async def test_get_with_query_string_works(server, http) -> None:
    async with http.get(f"{server.base_url}{server.token}/getMe") as response:
        assert (await response.json())["result"]["username"] == server.bot_username


async def test_a_json_body_that_is_not_an_object_is_refused(server, http) -> None:
    async with http.post(f"{server.base_url}{server.token}/getMe", data="[1]",
                         headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400 and "JSON" in (await response.json())["description"]


async def test_lenient_mode_ignores_unknown_parameters_like_telegram(http) -> None:
    async with BotApiServer(strict=False) as lenient:
        user = lenient.add_user(2001, "张三", started=True)
        status, body = await post_json(http, lenient, "sendMessage", {"chat_id": user["id"], "text": "x", "bogus": 1})
        assert status == 200 and lenient.requests[-1].unknown == ["bogus"]


async def test_chat_ids_may_be_usernames_of_groups(server, http, alice) -> None:
    server.add_group(-5001, "第一党支部", [alice["id"]], supergroup=True, username="branch_one")
    status, body = await post_json(http, server, "sendMessage", {"chat_id": "@branch_one", "text": "通知"})
    assert status == 200 and body["result"]["chat"]["id"] == -5001


@pytest.mark.parametrize(
    ("method", "params", "returns"),
    [
        pytest.param("getMe", {}, "User", id="getMe-User"),
        pytest.param("sendMessage", {"chat_id": 2001, "text": "<i>hi</i>", "parse_mode": "HTML",
                                     "reply_markup": KEYBOARD}, "Message", id="sendMessage-Message"),
        pytest.param("getChat", {"chat_id": 2001}, "ChatFullInfo", id="getChat-ChatFullInfo"),
        pytest.param("getChatMember", {"chat_id": 2001, "user_id": 2001}, "ChatMember", id="getChatMember"),
        pytest.param("getWebhookInfo", {}, "WebhookInfo", id="getWebhookInfo"),
        pytest.param("getChatMenuButton", {"chat_id": 2001}, "MenuButton", id="getChatMenuButton"),
    ],
)
async def test_results_are_objects_of_the_type_the_spec_promises(server, http, alice, method, params, returns) -> None:
    status, body = await post_json(http, server, method, params)
    assert status == 200
    assert load_spec().methods[method].returns == (returns,)
    assert load_spec().validate_type(returns, body["result"]) == []


def test_the_packaged_spec_is_the_shared_one_with_its_licence() -> None:
    if not SHARED_SPEC.is_file():
        pytest.skip("shared/ is not beside this checkout")
    assert PACKAGED_SPEC.read_bytes() == SHARED_SPEC.read_bytes()
    assert (PACKAGED_SPEC.parent / "LICENSE").read_bytes() == (SHARED_SPEC.parent / "LICENSE").read_bytes()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, SHARED_SPEC if SHARED_SPEC.is_file() else PACKAGED_SPEC, id="default"),
        pytest.param({"BRANCHBOT_BOTAPI_SPEC": str(PACKAGED_SPEC)}, PACKAGED_SPEC, id="env-override"),
    ],
)
def test_spec_is_found_at_run_time(environ, expected) -> None:
    assert find_spec_path(environ) == expected


def test_a_missing_configured_spec_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="BRANCHBOT_BOTAPI_SPEC"):
        find_spec_path({"BRANCHBOT_BOTAPI_SPEC": str(tmp_path / "nope.json")})


def test_the_spec_is_loaded_once() -> None:
    assert load_spec() is load_spec()
    assert load_spec().version == "Bot API 10.1"


@pytest.mark.parametrize(
    ("method", "form", "expected"),
    [
        pytest.param("sendMessage", {"chat_id": "2001", "text": "123"}, {"chat_id": 2001, "text": "123"},
                     id="integer-or-string-digits-become-integer"),
        pytest.param("sendMessage", {"chat_id": "@branch", "text": "true"}, {"chat_id": "@branch", "text": "true"},
                     id="username-stays-string-and-text-is-never-decoded"),
        pytest.param("sendPhoto", {"chat_id": "1", "photo": "12345"}, {"chat_id": 1, "photo": "12345"},
                     id="digit-file-id-stays-string"),
        pytest.param("getUpdates", {"offset": "-1", "allowed_updates": '["message"]'},
                     {"offset": -1, "allowed_updates": ["message"]}, id="array-from-json-text"),
        pytest.param("sendMessage", {"chat_id": "1", "text": "x", "disable_notification": "True"},
                     {"chat_id": 1, "text": "x", "disable_notification": True}, id="boolean-any-case"),
    ],
)
def test_form_values_decode_by_the_fields_types(method, form, expected) -> None:
    assert load_spec().validate(method, form, form_encoded=True).params == expected
