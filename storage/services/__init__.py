"""Transactional use-cases of the chat: binding, check-in, leave, confirmation, rolls and attendance queries."""
