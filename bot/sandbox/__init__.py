"""The sandbox: a loopback Telegram Bot API server (botapi) the real bot, the tests and the web page share."""
