"""Passwords, sign-ins, CSRF, Origin checks, throttling and response headers."""
