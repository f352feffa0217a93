"""Data rights: a person's export, the erasure of their account, and message retention.

- :mod:`peerhub.privacy.export`: everything PeerHub holds about a person, as JSON.
- :mod:`peerhub.privacy.erasure`: delete an account and every trace of its pseudonym.
- :mod:`peerhub.privacy.retention`: per-group message retention and ``peerhub retention``.
- :mod:`peerhub.privacy.routes`: ``/account/export`` and ``/account/erase``.

See docs/privacy.md for what each does and why.
"""
