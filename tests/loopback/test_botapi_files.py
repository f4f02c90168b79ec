"""Uploads and downloads: what the bot sends is stored, getFile points at it, base_file_url serves the bytes."""

from __future__ import annotations

import struct
import zlib

import pytest
from telegram import InputFile
from telegram.error import BadRequest


def tiny_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def test_document_upload_and_download_round_trip(server, bot, alice) -> None:
    content = "姓名,出勤\n张三,是\n".encode("utf-8")

    sent = await bot.send_document(alice["id"], InputFile(content, filename="台账.csv"), caption="本月台账")

    assert (sent.document.file_name, sent.document.file_size, sent.caption) == ("台账.csv", len(content), "本月台账")
    telegram_file = await bot.get_file(sent.document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == content
    assert server.file_bytes(sent.document.file_id) == content
    assert server.chat(alice["id"]).last["document"]["mime_type"] == "text/csv"


async def test_photo_keeps_its_size_and_can_be_sent_again_by_file_id(server, bot, alice) -> None:
    sent = await bot.send_photo(alice["id"], tiny_png(3, 2))
    photo = sent.photo[-1]
    assert (photo.width, photo.height) == (3, 2)

    again = await bot.send_photo(alice["id"], photo.file_id, caption="再发一次")

    assert again.photo[-1].file_id == photo.file_id
    assert len(server.sent_to(alice["id"])) == 2


async def test_a_photo_the_user_sends_reaches_the_bot_and_downloads(server, bot, alice) -> None:
    image = tiny_png(4, 4)
    server.user_sends_photo(alice["id"], image, caption="活动照片")

    updates = await bot.get_updates(timeout=1)

    message = updates[0].message
    assert message.caption == "活动照片"
    downloaded = await (await message.photo[-1].get_file()).download_as_bytearray()
    assert bytes(downloaded) == image


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        pytest.param("AgACAgUAAxkBAAIB-unknown", "Wrong file identifier", id="unknown-file-id"),
        pytest.param("https://example.org/a.png", "Wrong file identifier/http url specified", id="url-not-fetched"),
    ],
)
async def test_files_the_sandbox_does_not_have_are_refused(server, bot, alice, photo, message) -> None:
    with pytest.raises(BadRequest, match=message):
        await bot.send_photo(alice["id"], photo)


async def test_a_wrong_file_path_is_not_found(server, bot, alice) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.base_file_url}{server.token}/documents/nothing.bin") as response:
            assert response.status == 404
