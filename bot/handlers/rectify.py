"""/rectify, /rectifications, /talk, /talks and their buttons and notices: rectification and talks in chat."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import keyboards, texts
from bot.callbacks import Action, Callback, CallbackSigner
from bot.handlers.common import ChatContext, edge, private_only
from storage.models import RectificationNoteKind
from storage.outbox_kinds import OutboxKind
from storage.repositories.outbox import ClaimedMessage
from storage.services import rectification as rect_svc
from storage.services import talks as talk_svc
from storage.services.actors import Actor, OrgTree

log = logging.getLogger("bot.handlers")
MAX_CARDS = 20  # cards per /rectifications; the rest are in the ledger's rectification sheet


def deadline_rules(chat: ChatContext) -> rect_svc.DeadlineRules:
    """The catalog's `rectification` lead times and escalation (the defaults when it has no such entry)."""
    catalog = chat.config.current().catalog
    if "rectification" in catalog:
        return rect_svc.DeadlineRules.of(catalog["rectification"])
    return rect_svc.DeadlineRules()


def enqueue_notices(session: Session, now: datetime, chat: ChatContext) -> int:
    """The sweep's share for rectification and talks (idempotent: stable dedup keys)."""
    return (rect_svc.enqueue_reminders(session, now, deadline_rules(chat), chat.zone)
            + talk_svc.enqueue_owed_reminders(session, now, chat.zone))


def _today(now: datetime, chat: ChatContext):  # noqa: ANN202
    return now.astimezone(chat.zone).date()


# ---- /rectify -----------------------------------------------------------------------------------------


async def rectify(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    code = context.args[0] if context.args else None
    draft = await chat.as_member(update, lambda session, actor, now: rect_svc.start_draft(session, actor, now, code))
    await update.effective_message.reply_text(texts.rectify_step(draft))


async def _show_step(update: Update, chat: ChatContext, draft: rect_svc.DraftView, *, edit: bool) -> None:
    markup = None
    if draft.step == rect_svc.STEP_SOURCE:
        markup = keyboards.rectify_sources(chat.signer, rect_svc.SOURCES)
    elif draft.step == rect_svc.STEP_OWNERS:
        markup = keyboards.rectify_owners(chat.signer, draft.candidates)
    text = texts.rectify_step(draft)
    if edit and update.callback_query is not None:
        try:
            await update.callback_query.edit_message_text(text, reply_markup=markup)
        except BadRequest as exc:
            log.info("draft step not edited: %s", exc)
        return
    await update.effective_message.reply_text(text, reply_markup=markup)


async def press_draft(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    if cb.action is Action.RECTIFY_SOURCE:
        work = lambda session, actor, now: rect_svc.draft_source(session, actor, cb.arg, now)  # noqa: E731
    elif cb.action is Action.RECTIFY_OWNER:
        work = lambda session, actor, now: rect_svc.draft_toggle_owner(session, actor, cb.arg, now)  # noqa: E731
    else:
        work = lambda session, actor, now: rect_svc.draft_owners_done(session, actor, now)  # noqa: E731
    draft = await chat.as_member(update, work)
    await update.callback_query.answer()
    if cb.action is Action.RECTIFY_OWNER:
        await _show_step(update, chat, draft, edit=True)
        return
    # The choice stays on the pressed message; the next step comes as a new one.
    try:
        await update.callback_query.edit_message_reply_markup(None)
    except BadRequest as exc:
        log.info("draft buttons not removed: %s", exc)
    await _show_step(update, chat, draft, edit=False)


# ---- /rectifications and the item buttons --------------------------------------------------------------


async def rectifications(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    cards, now = await chat.as_member(update, lambda session, actor, now: (
        rect_svc.cards_for(session, actor, include_closed=actor.is_upper_committee_member), now))
    if not cards:
        await update.effective_message.reply_text(texts.NO_RECTIFICATIONS)
        return
    today = _today(now, chat)
    await update.effective_message.reply_text(texts.rectifications_header(len(cards), shown=MAX_CARDS))
    for item, actions in cards[:MAX_CARDS]:
        await update.effective_message.reply_text(texts.rectification_card(item, today),
                                                  reply_markup=keyboards.rectification(chat.signer, item.id, actions))


_PENDING_FOR = {
    Action.RECTIFY_NOTE: (rect_svc.PENDING_NOTE, texts.RECTIFY_ASK_NOTE),
    Action.RECTIFY_CLOSE: (rect_svc.PENDING_CLOSE, texts.RECTIFY_ASK_EVIDENCE),
    Action.RECTIFY_REOPEN: (rect_svc.PENDING_REOPEN, texts.RECTIFY_ASK_REOPEN),
}


async def press_item(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    kind, prompt = _PENDING_FOR[cb.action]

    work = lambda session, actor, now: rect_svc.begin_answer(session, actor, cb.activity_id, kind, now)  # noqa: E731
    item = await chat.as_member(update, work)
    await update.callback_query.answer()
    await context.bot.send_message(update.callback_query.from_user.id, texts.rectification_prompt(item, prompt))


# ---- answers typed or sent after a prompt ---------------------------------------------------------------


def answer_text(session: Session, actor: Actor, text: str, now: datetime, zone: ZoneInfo) -> Any:
    """A private text for a rectification draft or answer; None when the bot waits for something else."""
    if rect_svc.waits_for_draft_text(session, actor, now):
        return rect_svc.draft_text(session, actor, text, now, now.astimezone(zone).date())
    return rect_svc.submit_pending(session, actor, now, text=text)


def answer_file(session: Session, actor: Actor, file_id: str, caption: str | None, is_photo: bool,
                now: datetime) -> rect_svc.Answered | None:
    kind = RectificationNoteKind.PHOTO if is_photo else RectificationNoteKind.DOCUMENT
    return rect_svc.submit_pending(session, actor, now, text=caption, file_id=file_id, file_kind=kind)


async def reply_to_answer(update: Update, chat: ChatContext, result: Any, now: datetime) -> None:
    today = _today(now, chat)
    if isinstance(result, rect_svc.DraftView):
        await _show_step(update, chat, result, edit=False)
    elif isinstance(result, rect_svc.ItemView):
        await update.effective_message.reply_text(texts.rectification_recorded(result, today))
    else:
        await update.effective_message.reply_text(texts.rectification_answered(result, today))


def is_answer(result: Any) -> bool:
    return isinstance(result, (rect_svc.DraftView, rect_svc.ItemView, rect_svc.Answered))


# ---- /talk and /talks ---------------------------------------------------------------------------------


async def talk(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    args = list(context.args or [])
    if not args:
        await update.effective_message.reply_text(texts.TALK_USAGE)
        return
    who, when, topic = args[0], (args[1] if len(args) > 1 else "今天"), " ".join(args[2:]) or None  # the day parsed

    def work(session: Session, actor: Actor, now: datetime) -> tuple[talk_svc.Recorded, int]:
        other = talk_svc.find_colleague(session, actor, who)
        held = talk_svc.read_day(when, _today(now, chat))
        return talk_svc.record_talk(session, actor, other.id, held.day, now, topic=topic), actor.member_id

    recorded, me = await chat.as_member(update, work)
    await update.effective_message.reply_text(texts.talk_recorded(recorded, me))


async def talks(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    code = context.args[0] if context.args else None
    coverage = await chat.as_member(update, lambda session, actor, now: talk_svc.coverage_for(
        session, actor, _today(now, chat).year, code))
    await update.effective_message.reply_text(texts.talk_progress(coverage))


async def press_talk(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    def work(session: Session, actor: Actor, now: datetime) -> tuple[talk_svc.Recorded, int]:
        return talk_svc.record_talk(session, actor, cb.arg, _today(now, chat), now), actor.member_id

    recorded, me = await chat.as_member(update, work)
    await update.callback_query.answer(texts.talk_recorded(recorded, me).split("\n")[0])
    mine = recorded.coverage.owed_by(me)
    owed = mine.owed if mine else ()
    try:
        await update.callback_query.edit_message_text(texts.talk_owed_reminder(recorded.coverage.year, owed),
                                                      reply_markup=keyboards.talks_owed(chat.signer, owed))
    except BadRequest as exc:
        log.info("talk reminder not edited: %s", exc)


# ---- how the outbox kinds of rectification and talks read when sent -------------------------------------------


class NoticeViews:
    """Renderers for the outbox kinds of `rectification` and `talks`, rendered when sent (current state)."""

    def __init__(self, signer: CallbackSigner) -> None:
        self.signer = signer

    @staticmethod
    def _today(row: ClaimedMessage, zone: ZoneInfo):  # noqa: ANN205
        return row.due_at.astimezone(zone).date()

    def _item(self, session: Session, row: ClaimedMessage) -> rect_svc.ItemView:
        return rect_svc.item_view(session, int(row.payload["item_id"]))

    def due(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
            now: datetime) -> tuple[str, Any]:
        item = self._item(session, row)
        markup = keyboards.rectification(self.signer, item.id, (rect_svc.ACTION_NOTE,)) if item.is_open else None
        return texts.rectification_due(item, self._today(row, zone)), markup

    def overdue(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
            now: datetime) -> tuple[str, Any]:
        item = self._item(session, row)
        markup = keyboards.rectification(self.signer, item.id, (rect_svc.ACTION_CLOSE,)) if item.is_open else None
        return texts.rectification_overdue(item, self._today(row, zone)), markup

    def escalation(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
            now: datetime) -> tuple[str, Any]:
        return texts.rectification_escalation(self._item(session, row), self._today(row, zone)), None

    def supervision(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
            now: datetime) -> tuple[str, Any]:
        tree = OrgTree.load(session)
        org_id = int(row.payload["org_id"])
        today = self._today(row, zone)
        overdue = rect_svc.overdue_by_branch(session, tree.subtree(org_id), today)
        return texts.rectification_supervision(tree.name.get(org_id, ""), overdue, tree.name, today), None

    def changed(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
            now: datetime) -> tuple[str, Any]:
        item = self._item(session, row)
        if row.payload.get("event") == "closed":
            markup = keyboards.rectification(self.signer, item.id, (rect_svc.ACTION_REOPEN,)) if not item.is_open else None
            return texts.rectification_closed_notice(item), markup
        return texts.rectification_reopened_notice(item, str(row.payload.get("reason", ""))), None

    def talk_owed(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
            now: datetime) -> tuple[str, Any]:
        year, org_id = int(row.payload["year"]), int(row.payload["org_id"])
        mine = talk_svc.coverage(session, org_id, year).owed_by(row.member_id or 0)
        owed = mine.owed if mine else ()
        text = (texts.talk_year_start(year, owed) if row.payload.get("moment") == talk_svc.YEAR_START
                else texts.talk_owed_reminder(year, owed))
        return text, keyboards.talks_owed(self.signer, owed)

    def renderers(self) -> dict[OutboxKind, Any]:
        return {
            OutboxKind.RECTIFICATION_DUE: self.due,
            OutboxKind.RECTIFICATION_OVERDUE: self.overdue,
            OutboxKind.RECTIFICATION_ESCALATION: self.escalation,
            OutboxKind.RECTIFICATION_SUPERVISION: self.supervision,
            OutboxKind.RECTIFICATION_CHANGED: self.changed,
            OutboxKind.TALK_OWED: self.talk_owed,
        }


def register(application: Application, chat: ChatContext) -> None:
    for name, handler in (("rectify", rectify), ("rectifications", rectifications), ("talk", talk), ("talks", talks)):
        application.add_handler(CommandHandler(name, edge(chat, private_only(handler), name=f"/{name}")))
    for action in (Action.RECTIFY_SOURCE, Action.RECTIFY_OWNER, Action.RECTIFY_OWNERS_DONE):
        chat.buttons.add(action, press_draft)
    for action in _PENDING_FOR:
        chat.buttons.add(action, press_item)
    chat.buttons.add(Action.TALK_HELD_TODAY, press_talk)
