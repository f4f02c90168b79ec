"""The Telegram adapter: handlers, the scheduler runtime, the sandbox and the command line."""
