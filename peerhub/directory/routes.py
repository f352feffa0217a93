"""Routes of the public directory: web pages, iCalendar feeds and the HSDS 3.0 API."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from peerhub.directory import pages
from peerhub.directory.hsds import HSDSApp

routes: list[BaseRoute] = [
    Route("/groups", pages.groups_page, methods=["GET"]),
    Route("/groups.ics", pages.search_feed, methods=["GET"]),
    # Before /groups/{slug}: a slug never holds a dot, so "x.ics" is always a feed.
    Route("/groups/{slug}.ics", pages.group_feed, methods=["GET"]),
    Route("/groups/{slug}", pages.group_page, methods=["GET"]),
    Route("/organisations/{slug}", pages.organisation_page, methods=["GET"]),
    Mount("/hsds", app=HSDSApp()),
]
