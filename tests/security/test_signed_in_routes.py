"""Routes ask for a signed-in person one way: ``@signed_in`` or ``@admin_only``
(peerhub/web/guards.py, docs/architecture.md "Signed-in routes").

Two halves:

* the source: no module of peerhub/ writes the check out by hand again (a
  ``require_user(...)`` followed by ``isinstance(user, Response)``, or its own
  redirect to the sign-in page);
* the behaviour: every route made by the decorators, found by walking the app's
  routes (so a new one is covered without touching this file), answers someone not
  signed in with the sign-in redirect (pages) or a 401 JSON (``/api/``), and every
  ``@admin_only`` route answers a person who is not an administrator with a 403.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.convertors import FloatConvertor, IntegerConvertor, UUIDConvertor
from starlette.routing import BaseRoute, Mount, Route

import peerhub
from peerhub.web.guards import Need, need_of
from tests.conftest import BASE, csrf_token, sign_up
from tests.security.support import Endpoint, matrix
from tests.security.test_authorisation_matrix import bare_app

PACKAGE = Path(peerhub.__file__).parent
GUARDS = PACKAGE / "web" / "guards.py"

# Names of the hand-written check that the decorators replaced: calling (or defining)
# one of these outside peerhub/web/guards.py is writing the check out again.
HAND_CHECKS = frozenset({"require_user", "require_admin", "login_redirect", "sign_in_first"})

# Rows of docs/security.md's matrix that send someone not signed in to sign in
# without being a signed-in route: the second step of signing in is for someone
# half-way in, and without a first step it starts again at /login.
LOGIN_WITHOUT_DECORATOR = frozenset({Endpoint("GET", "/login/2fa")})


# --- the source ---------------------------------------------------------------------------


def _called_name(node: ast.expr) -> str | None:
    """``f`` for ``f(...)``, ``await f(...)`` and ``m.f(...)``."""
    if isinstance(node, ast.Await):
        node = node.value
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def hand_written_checks(source: str, filename: str) -> list[str]:
    """Every place in ``source`` that writes the signed-in check out by hand."""
    found: list[str] = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in HAND_CHECKS:
            found.append(f"{filename}:{node.lineno}: defines {node.name}()")
        elif isinstance(node, ast.Call) and _called_name(node) in HAND_CHECKS:
            found.append(f"{filename}:{node.lineno}: calls {_called_name(node)}()")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in HAND_CHECKS:
                    found.append(f"{filename}:{node.lineno}: imports {alias.name}")
        elif (
            isinstance(node, ast.Constant)  # an f-string's pieces too
            and isinstance(node.value, str)
            and node.value.startswith("/login?next=")
        ):
            found.append(f"{filename}:{node.lineno}: its own redirect to /login?next=")
    # ``x = <a call that names a person>`` then ``isinstance(x, Response)``: a helper
    # answering "a person or a refusal" (User | Response) in place of the decorators.
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        from_person: set[str] = set()
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                called = _called_name(node.value) or ""
                if "user" in called or "admin" in called:
                    from_person.add(node.targets[0].id)
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "isinstance"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in from_person
                and isinstance(node.args[1], ast.Name)
                and node.args[1].id == "Response"
            ):
                found.append(
                    f"{filename}:{node.lineno}: isinstance({node.args[0].id}, Response) "
                    "after asking for the person by hand"
                )
    return found


def test_the_check_finds_the_old_hand_written_copy() -> None:
    old = (
        "async def page(request):\n"
        "    user = require_user(request)\n"
        "    if isinstance(user, Response):\n"
        "        return user\n"
    )
    renamed = (
        "async def page(request):\n"
        "    admin = routes.check_admin(request)\n"
        "    if isinstance(admin, Response):\n"
        "        return admin\n"
    )
    redirect = (
        "def page(request):\n"
        "    if auth(request).user is None:\n"
        "        return RedirectResponse(f'/login?next={request.url.path}', 303)\n"
    )
    assert len(hand_written_checks(old, "old.py")) == 2
    assert hand_written_checks(renamed, "renamed.py") == [
        "renamed.py:3: isinstance(admin, Response) after asking for the person by hand"
    ]
    assert hand_written_checks(redirect, "redirect.py") == [
        "redirect.py:3: its own redirect to /login?next="
    ]
    fine = (
        "@signed_in\n"
        "async def page(request, user):\n"
        "    group = await _group_or_404(request)\n"
        "    if isinstance(group, Response):\n"
        "        return group\n"
    )
    assert hand_written_checks(fine, "fine.py") == []


def test_no_module_writes_the_signed_in_check_by_hand() -> None:
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == GUARDS or "migrations" in path.parts:
            continue
        name = str(path.relative_to(PACKAGE.parent))
        found += hand_written_checks(path.read_text(encoding="utf-8"), name)
    assert found == [], (
        "A route asks for a signed-in person with @signed_in or @admin_only "
        "(peerhub/web/guards.py), not by hand:\n  " + "\n  ".join(found)
    )


# --- the routes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Guarded:
    method: str
    path: str  # with its parameters filled in
    template: str
    need: Need


def _sample(convertor: object) -> str:
    if isinstance(convertor, IntegerConvertor):
        return "1"
    if isinstance(convertor, FloatConvertor):
        return "1.5"
    if isinstance(convertor, UUIDConvertor):
        return str(uuid.UUID(int=1))
    return "x1"


def _routes_of(mount: Mount) -> Sequence[BaseRoute]:
    if mount.routes:
        return mount.routes
    router = getattr(mount.app, "router", None)
    return list(getattr(router, "routes", None) or [])


def guarded_routes(app: Starlette) -> list[Guarded]:
    """Every (method, route) of the app made by @signed_in or @admin_only, Mount
    sub-routes included, with a sample value in each path parameter."""
    found: list[Guarded] = []

    def walk(routes: Sequence[BaseRoute], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(_routes_of(route), prefix + route.path)
            elif isinstance(route, Route) and (need := need_of(route.endpoint)) is not None:
                samples = {name: _sample(c) for name, c in route.param_convertors.items()}
                path = prefix + route.path_format.format(**samples)
                for method in sorted(route.methods or ()):
                    if method != "HEAD":  # answered by the GET handler
                        found.append(Guarded(method, path, prefix + route.path, need))

    walk(app.routes, "")
    return found


def test_the_walk_finds_the_signed_in_and_admin_routes() -> None:
    found = {(g.method, g.template): g.need for g in guarded_routes(bare_app())}
    assert found[("GET", "/account")] is Need.SIGNED_IN
    assert found[("GET", "/api/me")] is Need.SIGNED_IN
    assert found[("POST", "/groups/{slug}/join")] is Need.SIGNED_IN
    assert found[("GET", "/admin")] is Need.ADMIN
    assert found[("GET", "/admin/languages")] is Need.ADMIN
    assert found[("POST", "/admin/allocate")] is Need.ADMIN


def test_every_route_that_sends_the_anonymous_to_sign_in_is_a_signed_in_route() -> None:
    """docs/security.md's matrix and the decorators agree: a row whose anonymous cell is
    ``login`` is a route made by @signed_in or @admin_only, and the other way round."""
    decorated = {Endpoint(g.method, g.template) for g in guarded_routes(bare_app())}
    login = {e for e, cells in matrix().items() if cells["anonymous"] == "login"}
    assert sorted(login - decorated - LOGIN_WITHOUT_DECORATOR) == []
    assert sorted(decorated - login) == []


async def _ask(client: httpx.AsyncClient, route: Guarded, token: str) -> httpx.Response:
    """The route's own method: a GET, or a POST with a valid CSRF token."""
    if route.method == "GET":
        return await client.get(route.path)
    return await client.post(route.path, data={"csrf_token": token}, headers={"Origin": BASE})


async def test_every_signed_in_route_sends_the_anonymous_to_sign_in(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    token = await csrf_token(client)
    routes = guarded_routes(app)
    assert len(routes) > 50
    wrong: list[str] = []
    for route in routes:
        response = await _ask(client, route, token)
        if route.path.startswith("/api/"):
            ok = (
                response.status_code == 401
                and response.headers["content-type"].startswith("application/json")
                and response.json() == {"error": "Sign in first."}
            )
        else:
            ok = (
                response.status_code == 303
                and response.headers["location"] == f"/login?next={quote(route.path)}"
            )
        if not ok:
            wrong.append(f"{route.method} {route.path}: {response.status_code}")
    assert wrong == []


async def test_a_signed_in_page_keeps_its_query_in_next(client: httpx.AsyncClient) -> None:
    response = await client.get("/account/sessions?a=1&b=two")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/sessions%3Fa%3D1%26b%3Dtwo"


async def test_every_admin_route_refuses_a_person_who_is_not_an_administrator(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await sign_up(client, "Not An Admin")
    token = await csrf_token(client)
    routes = [g for g in guarded_routes(app) if g.need is Need.ADMIN]
    assert routes
    wrong: list[str] = []
    for route in routes:
        response = await _ask(client, route, token)
        if response.status_code != 403 or "administrators" not in response.text:
            wrong.append(f"{route.method} {route.path}: {response.status_code}")
    assert wrong == []
