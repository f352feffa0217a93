"""Passwords, sessions, CSRF, Origin checks, throttling and response headers."""
