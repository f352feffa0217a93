"""The organiser's forms for a group's and an organisation's text in other languages.

``POST /organise/groups/{group_id}/texts`` and ``POST /organise/organisations/{org_id}/texts``
with ``action``:

- ``language``: the language of the own text (field ``text_language``);
- ``add``: a new version (fields ``new-language``, ``new-name``, ``new-description`` and,
  for a group, ``new-ground_rules``, ``new-joining``);
- ``save``: change the version in ``replacing`` (fields ``v-<tag>-…``, the same names);
- ``remove``: remove the version in ``replacing``.

Each form sits in the "In other languages" section of the organiser's group or
organisation page (peerhub/templates/organise/_texts.html). A mistake shows the page
again, 422, with the form's fields as typed and every error named; the actions
(peerhub/groups/texts.py) check that the person organises the group.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from peerhub.db import transaction
from peerhub.errors import FieldError, NotFound
from peerhub.groups import organise, texts
from peerhub.groups.actions import group_for, organisation_for_organiser
from peerhub.groups.page_helpers import field, invalid
from peerhub.groups.validation import FormErrors, errors_of
from peerhub.i18n import _
from peerhub.models import GroupRole, User
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx

FIELDS = ("language", "name", "description", "ground_rules", "joining")


def _fields(form: Any, prefix: str) -> dict[str, str]:
    return {name: field(form, prefix + name, 8000) for name in FIELDS}


def _prefixed(exc: FieldError, prefix: str) -> FormErrors:
    return FormErrors({prefix + key: message for key, message in errors_of(exc).items()})


async def _handle(
    request: Request,
    user: User,
    *,
    group: bool,
) -> Response:
    app = ctx(request)
    owner_id = request.path_params["group_id" if group else "org_id"]
    base = f"/organise/groups/{owner_id}" if group else f"/organise/organisations/{owner_id}"
    form = await request.form()
    what = field(form, "action", 20)
    replacing = field(form, "replacing", 40) or None
    values: dict[str, str] = {}
    now = app.clock()
    try:
        async with transaction(app.sessions) as db:
            if what == "language":
                raw = field(form, "text_language", 200)
                values = {"text_language": raw}
                if group:
                    await texts.set_group_language(db, user, owner_id, raw, now)
                else:
                    await texts.set_organisation_language(db, user, owner_id, raw, now)
            elif what in ("add", "save"):
                prefix = texts.form_prefix(replacing if what == "save" else None)
                typed = _fields(form, prefix)
                values = {prefix + k: v for k, v in typed.items()}
                if what == "save" and replacing is None:
                    raise NotFound("replacing")
                try:
                    data = texts.parse_version(typed, group=group)
                    if group:
                        await texts.save_group_version(
                            db, user, owner_id, data, now, replacing=replacing
                        )
                    else:
                        await texts.save_organisation_version(
                            db, user, owner_id, data, now, replacing=replacing
                        )
                except FieldError as exc:
                    # Permission first: an outsider learns nothing of what was wrong.
                    await _check(db, user, owner_id, group=group)
                    raise _prefixed(exc, prefix) from exc
            elif what == "remove" and replacing is not None:
                if group:
                    await texts.remove_group_version(db, user, owner_id, replacing, now)
                else:
                    await texts.remove_organisation_version(db, user, owner_id, replacing, now)
            else:
                await _check(db, user, owner_id, group=group)
                raise FieldError("text_language", _("Choose what to do with the versions."))
    except FieldError as exc:
        if group:
            context = await organise._group_context(user, request, owner_id)
            template = "organise/group.html"
        else:
            context = await organise._organisation_context(user, request, owner_id)
            template = "organise/organisation.html"
        context["values"] = values
        context["texts_open"] = replacing if what == "save" else None
        return invalid(request, template, context, exc)
    done = {"language": "text_language", "add": "text_added", "save": "text_saved"}.get(
        what, "text_removed"
    )
    return RedirectResponse(f"{base}?done={done}#texts-title", status_code=303)


async def _check(db: AsyncSession, user: User, owner_id: str, *, group: bool) -> None:
    if group:
        await group_for(db, user, owner_id, GroupRole.ORGANISER)
    else:
        await organisation_for_organiser(db, user, owner_id)


@signed_in
async def group_texts(request: Request, user: User) -> Response:
    return await _handle(request, user, group=True)


@signed_in
async def organisation_texts(request: Request, user: User) -> Response:
    return await _handle(request, user, group=False)
