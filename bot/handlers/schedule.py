"""/schedule, /reschedule, /cancel: parse the secretary's sentence, show a confirmation card, apply on ✅."""

from __future__ import annotations

from datetime import date
from functools import cached_property

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts
from bot.callbacks import Action, Callback
from bot.handlers import buttons
from bot.handlers.common import ChatContext, edge, is_private
from bot.runtime.materialise import DEFAULT_LEAD_MINUTES, ReminderPolicy, enqueue_reminders
from bot.settings import PROJECT_CONFIG_DIR
from schedules.calendar import CalendarUnknownYear, load_official_calendar
from schedules.timeparse import SCHEDULE_EXAMPLES, TimeParseError, split_schedule_text
from storage import models
from storage.services import scheduling
from storage.services.actors import actor_for_telegram
from storage.services.errors import InvalidInput

USAGE = {
    scheduling.NEW: "用法：/schedule 活动名称 时间 地点，例如 /schedule " + SCHEDULE_EXAMPLES[0],
    scheduling.MOVE: "用法：/reschedule 活动名称 新时间 [地点]，例如 /reschedule 主题党日 下周五上午9点",
    scheduling.CANCEL: "用法：/cancel 活动名称，例如 /cancel 主题党日",
}
HEADINGS = {scheduling.NEW: "🗓 新活动", scheduling.MOVE: "🔁 调整活动时间", scheduling.CANCEL: "✖️ 取消活动"}


class Workdays:
    """The official calendar, loaded once on first use (chinesecalendar + config overrides)."""

    @cached_property
    def calendar(self):  # noqa: ANN201
        return load_official_calendar(PROJECT_CONFIG_DIR / "holidays")

    def __call__(self, day: date) -> bool | None:
        try:
            return self.calendar.is_workday(day)
        except CalendarUnknownYear:
            return None


WORKDAYS = Workdays()


def card(draft: scheduling.Draft, chat: ChatContext, reading: str | None = None) -> str:
    lines = [HEADINGS[draft.operation], f"活动：{draft.title}（{draft.org_name}）"]
    if draft.activity is not None and draft.operation == scheduling.MOVE:
        lines.append(f"原定：{texts.moment(draft.activity.starts_at, chat.zone)}")
    if draft.starts_at is not None:
        lines.append(f"时间：{texts.moment(draft.starts_at, chat.zone)}")
    elif draft.activity is not None:
        lines.append(f"时间：{texts.moment(draft.activity.starts_at, chat.zone)}")
    if reading:
        lines.append(f"（时间理解为：{reading}）")
    if draft.place:
        lines.append(f"地点：{draft.place}")
    lines += list(draft.warnings)
    lines.append("请确认：")
    return "\n".join(lines)


def card_buttons(chat: ChatContext, pending_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_SCHEDULE_CONFIRM, callback_data=chat.signer.button(Action.SCHEDULE_CONFIRM, 0, pending_id)),
        InlineKeyboardButton(texts.BUTTON_SCHEDULE_EDIT, callback_data=chat.signer.button(Action.SCHEDULE_EDIT, 0, pending_id)),
        InlineKeyboardButton(texts.BUTTON_SCHEDULE_CANCEL, callback_data=chat.signer.button(Action.SCHEDULE_CANCEL, 0, pending_id)),
    ]])


def _parse(operation: str, text: str, now, zone):  # noqa: ANN001, ANN202
    """(title, starts_at, place, reading) from the command's text; TimeParseError becomes a friendly InvalidInput."""
    if operation == scheduling.CANCEL:
        return text.strip(), None, None, None
    try:
        parsed = split_schedule_text(text, now, zone)
        if parsed.parsed.at is None:  # pragma: no cover - the parser always resolves or raises
            raise TimeParseError("没有找到时间")
    except TimeParseError as exc:
        raise InvalidInput(f"{exc.message}\n例如：{'、'.join(exc.examples or SCHEDULE_EXAMPLES)}\n{USAGE[operation]}") from None
    return parsed.title, parsed.parsed.at, parsed.place, parsed.parsed.reading


def command(operation: str):  # noqa: ANN201
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
        if not is_private(update):
            await update.effective_message.reply_text(texts.PRIVATE_ONLY)
            return
        text = " ".join(context.args or [])
        if not text.strip():
            await update.effective_message.reply_text(USAGE[operation])
            return
        user_id = update.effective_user.id

        def work(session, now):  # noqa: ANN001, ANN202
            actor = actor_for_telegram(session, user_id)
            title, starts_at, place, reading = _parse(operation, text, now, chat.zone)
            return scheduling.draft(session, actor, operation, now, chat.zone, WORKDAYS,
                                    title=title, starts_at=starts_at, place=place), reading

        draft, reading = await chat.db(work)
        await update.effective_message.reply_text(card(draft, chat, reading),
                                                  reply_markup=card_buttons(chat, draft.pending_id))

    return handle


async def press_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    def work(session, actor, now):  # noqa: ANN001, ANN202
        applied = scheduling.apply(session, actor, cb.arg, now, chat.zone, lead_minutes=DEFAULT_LEAD_MINUTES)
        if applied.operation != scheduling.CANCEL:
            activity = session.get(models.Activity, applied.activity.id)
            enqueue_reminders(session, [activity], now=now, policy=ReminderPolicy(zone=chat.zone))
        return applied

    applied = await chat.as_member(update, work)
    when = texts.moment(applied.activity.starts_at, chat.zone)
    done = {
        scheduling.NEW: f"✅ 已安排「{applied.activity.title}」：{when}。届时会提醒参加的党员。",
        scheduling.MOVE: f"✅ 已将「{applied.activity.title}」改到 {when}。",
        scheduling.CANCEL: f"✅ 已取消「{applied.activity.title}」。",
    }[applied.operation]
    if applied.told:
        done += f"已通知之前收到提醒的 {applied.told} 位党员。"
    await update.callback_query.answer(done[:200])
    await buttons.append_stamp(update, done)


async def press_discard(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    await chat.as_member(update, lambda session, actor, now: scheduling.discard(session, actor, cb.arg, now))
    await update.callback_query.answer()
    message = "已放弃，没有做任何改动。"
    if cb.action is Action.SCHEDULE_EDIT:
        message = "已放弃这张确认卡。请重新发送命令，写上新的时间或地点。"
    await buttons.append_stamp(update, message)


def register(application: Application, chat: ChatContext) -> None:
    for name, operation in (("schedule", scheduling.NEW), ("reschedule", scheduling.MOVE),
                            ("cancel", scheduling.CANCEL)):
        application.add_handler(CommandHandler(name, edge(chat, command(operation), name=f"/{name}")))
    buttons.register_button(Action.SCHEDULE_CONFIRM, press_confirm)
    buttons.register_button(Action.SCHEDULE_EDIT, press_discard)
    buttons.register_button(Action.SCHEDULE_CANCEL, press_discard)

