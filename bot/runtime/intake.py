"""How updates reach the bot: Telegram's webhook (PTB's webhook server, secret checked) or a single long poll."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram.error import Conflict, TelegramError
from telegram.ext import Application

from bot import texts
from bot.settings import Settings

log = logging.getLogger(__name__)

# Telegram's rule for setWebhook's secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1:8443"


@dataclass(frozen=True)
class WebhookOptions:
    """Webhook mode: Telegram posts to `url`; PTB's server listens on host:port at the URL's path."""

    url: str
    host: str
    port: int
    secret: str
    delete_on_stop: bool = True
    max_connections: int = 40

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.lstrip("/")


def parse_listen(value: str, name: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::]:port`) into its parts; a Chinese error naming `name` otherwise."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(texts.listen_address_refusal(name, value))
    return host.strip("[]") or "0.0.0.0", int(port)


def webhook_options(settings: Settings) -> WebhookOptions | None:
    """None (polling) unless BRANCHBOT_WEBHOOK_URL is set; then the secret is required."""
    env = settings.environ
    url = (env.get("BRANCHBOT_WEBHOOK_URL") or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise ValueError(texts.webhook_url_refusal("BRANCHBOT_WEBHOOK_URL", url))
    secret = env.get("BRANCHBOT_WEBHOOK_SECRET") or ""
    if not SECRET_TOKEN.fullmatch(secret):
        raise ValueError(texts.webhook_secret_missing("BRANCHBOT_WEBHOOK_SECRET"))
    host, port = parse_listen(env.get("BRANCHBOT_WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
                              "BRANCHBOT_WEBHOOK_LISTEN")
    return WebhookOptions(url=url, host=host, port=port, secret=secret,
                          delete_on_stop=settings.webhook_delete_on_stop)


class ChatIntake:
    """Starts and stops update intake; tells a 409 Conflict clearly instead of retrying silently."""

    def __init__(self, application: Application, webhook: WebhookOptions | None, state: Any) -> None:
        self.application = application
        self.webhook = webhook
        self.state = state

    @property
    def polling(self) -> bool:
        updater = self.application.updater
        return self.webhook is None and updater is not None and updater.running

    async def start(self) -> None:
        updater = self.application.updater
        if updater is None or updater.running or not self.application.handlers:
            return
        if self.webhook is None:
            await updater.start_polling(drop_pending_updates=False, error_callback=self._on_poll_error)
            log.info("polling: receiving updates by getUpdates")
            return
        hook = self.webhook
        try:
            await updater.start_webhook(
                listen=hook.host, port=hook.port, url_path=hook.path, webhook_url=hook.url,
                secret_token=hook.secret, drop_pending_updates=False, max_connections=hook.max_connections,
                bootstrap_retries=3,
            )
        except TelegramError as error:
            log.error("webhook: setWebhook failed (%s); updates cannot arrive until it succeeds", error)
            raise
        log.info("webhook: listening on %s:%d/%s", hook.host, hook.port, hook.path)

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
            if self.webhook is not None and self.webhook.delete_on_stop:
                try:
                    await self.application.bot.delete_webhook(drop_pending_updates=False)
                except TelegramError as error:
                    log.warning("webhook: deleteWebhook failed at stop (%s)", error)

    def _on_poll_error(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            self.state.polling_conflicts += 1
            if self.state.polling_conflicts == 1 or self.state.polling_conflicts % 20 == 0:
                log.error(
                    "polling: Telegram answered 409 Conflict (%s): another process polls with this bot token, or a "
                    "webhook is set. Only one consumer gets the updates: run one poller per token, or use webhook "
                    "mode (BRANCHBOT_WEBHOOK_URL). Retrying every 30 s (%d conflicts so far).",
                    error.message, self.state.polling_conflicts)
            return
        log.warning("polling: getUpdates failed (%s); PTB retries", error)
