"""A command the bot does not have gets the nearest one it has and /help, never silence."""

from __future__ import annotations

import difflib

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot import texts
from bot.handlers.common import ChatContext, bot_username, edge, is_private


def known_commands(application: Application) -> list[str]:
    """Every command a CommandHandler of `application` answers, read from the application itself."""
    return sorted({command for handlers in application.handlers.values() for handler in handlers
                   if isinstance(handler, CommandHandler) for command in handler.commands})


def nearest_command(name: str, known: list[str]) -> str | None:
    """The known command a mistyped one most likely meant (/attendence → attendance), if any is close."""
    found = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
    return found[0] if found else None


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    word = message.text.split()[0][1:]
    name, _, addressee = word.partition("@")
    own = (bot_username(context.bot, chat) or "").lower()
    if not is_private(update):
        if addressee.lower() != own:
            return  # in a group, a command without our @name may be another bot's
    elif addressee and addressee.lower() != own:
        return
    await message.reply_text(texts.unknown_command(name, nearest_command(name, known_commands(context.application))))


def register(application: Application, chat: ChatContext) -> None:
    """Must be added after every CommandHandler of group 0: PTB gives an update to the first handler that matches."""
    application.add_handler(MessageHandler(filters.COMMAND, edge(chat, unknown_command, name="unknown command")))
