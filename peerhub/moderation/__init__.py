"""The moderation toolkit for the real-time rooms (see docs/moderation.md)."""
