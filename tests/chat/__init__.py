"""Chat flows: services, handlers and dialogs through the loopback Bot API server."""
