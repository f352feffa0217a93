"""Settings from ``PEERHUB_*`` environment variables, validated at start-up.

A bad value raises :class:`ConfigError` whose message names the variable; the
command line prints that one line and exits non-zero.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
# The package's own folder: it holds templates/ and static/, in a checkout and in an
# installed wheel alike (PEERHUB_FRONTEND_DIR may point elsewhere, to serve edited copies).
PACKAGE_DIR = Path(__file__).resolve().parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


CONTACT_MODES = ("voice", "text", "video")
CONTACT_NATIONS = ("England", "Scotland", "Wales", "Northern Ireland")


def _(text: str) -> str:
    """Marks a default contact's English text for the catalogue (``pybabel`` extracts
    ``_("…")``) and returns it unchanged: the contacts stay plain text, which the APIs
    and e-mails can use as they are, and are translated where they are shown
    (:attr:`CrisisContact.how_text` and the others). Not the translating ``_`` of
    peerhub/i18n.py."""
    return text


@dataclass(frozen=True, slots=True)
class CrisisContact:
    """A way to get help now. Every default names its source in docs/safety/crisis-contacts.md.

    ``nations`` are where it serves (empty: the whole UK); ``sign_language`` marks a route
    for Deaf people and people who sign (BSL video relay, text to 999, textphone), led
    with for them; ``languages`` are BCP 47 tags of languages other than English it is
    answered in; ``modes`` say how it is reached (voice, text, video); ``general``
    contacts are shown on every page, the others where they fit the person
    (peerhub/crisis.py). ``hours`` is when it is open, if not always.

    ``source`` is where the number and its hours were checked (a web address, or a
    citation that includes one) and ``checked`` the date they were; ``interpreter``
    is true where ``interpreter_source`` (or ``source``) says a caller can ask for an
    interpreter, in ``interpreter_nations`` only when the source speaks for those (empty:
    wherever the contact serves). ``descriptions`` are the description in other
    languages, as ``(BCP 47 tag, text)`` pairs (docs/safety/crisis-contacts.md)."""

    name: str
    how: str
    description: str
    href: str | None = None
    nations: tuple[str, ...] = ()
    sign_language: bool = False
    languages: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("voice",)
    general: bool = True
    hours: str = ""
    source: str = ""
    checked: date | None = None
    interpreter: bool = False
    interpreter_nations: tuple[str, ...] = ()
    interpreter_source: str = ""
    descriptions: tuple[tuple[str, str], ...] = ()

    @property
    def how_text(self) -> str:
        """How to reach it, in the page's language when it is one of the defaults."""
        return _shown(self.how)

    @property
    def hours_text(self) -> str:
        return _shown(self.hours)

    @property
    def description_text(self) -> str:
        """The description in the page's language: the file's own for that language
        when it gives one, else the default's translation, else the text as given."""
        return description_in(self, _page_tag())


def _page_tag() -> str:
    from peerhub import i18n  # here, not at the top: settings load before the catalogues

    return i18n.current().tag


def _shown(text: str) -> str:
    """A default's text through the catalogue; a deployment's own text as it is."""
    if not text or text not in DEFAULT_TEXTS:
        return text
    from peerhub import i18n

    return i18n.gettext(text)


def description_in(contact: CrisisContact, tag: str) -> str:
    """``contact``'s description for a page in ``tag``: the exact tag, then the same
    language ("cy" for "cy-GB", "zh-Hant" for "zh-Hant-HK"), then the default."""
    wanted = tag.casefold()
    own = {t.casefold(): text for t, text in contact.descriptions}
    parts = wanted.split("-")
    for n in range(len(parts), 0, -1):
        found = own.get("-".join(parts[:n]))
        if found:
            return found
    return _shown(contact.description)


# The defaults below: each source and date is also in docs/safety/crisis-contacts.md.
CHECKED: Final = date(2026, 12, 5)
_NHS_LONDON_111 = "NHS in London, “NHS 111”, https://www.myhealth.london.nhs.uk/nhs-111"

DEFAULT_CRISIS_CONTACTS: tuple[CrisisContact, ...] = (
    CrisisContact(
        "Samaritans",
        _("Call 116 123"),
        _("Free, any time, day or night, to talk about anything."),
        "tel:116123",
        source="Samaritans, “Contact a Samaritan”, "
        "https://www.samaritans.org/how-we-can-help/contact-samaritan/",
        checked=CHECKED,
    ),
    CrisisContact(
        "NHS 111, option 2",
        _("Call 111 and choose option 2"),
        _("The NHS mental health crisis line, any time, for all ages."),
        "tel:111",
        nations=("England", "Wales"),
        source="England: Norwood Medical Centre (NHS), “NHS 111 – option 2 for crisis mental "
        "health support”, 14 August 2024, https://www.norwoodmc.co.uk/2024/08/14/"
        "nhs-111-option-2-for-crisis-mental-health-support/; Wales: ITV Wales, 20 June 2023, "
        "https://itv.com/news/wales/2023-06-20/new-mental-health-phone-line-launches-across-wales",
        checked=CHECKED,
        # The source is NHS 111 in England; no source for Wales's 111 was found.
        interpreter=True,
        interpreter_nations=("England",),
        interpreter_source=_NHS_LONDON_111,
    ),
    CrisisContact(
        "Shout",
        _("Text SHOUT to 85258"),
        _("Free, confidential text support, any time."),
        "sms:85258?body=SHOUT",
        modes=("text",),
        source="Shout 85258, “FAQ”, https://giveusashout.org/about-us/faq/",
        checked=CHECKED,
    ),
    CrisisContact(
        "Emergency",
        _("Call 999"),
        _("If your life or someone else's is in danger now."),
        "tel:999",
        source="NHS 24, “When to phone 111”, https://www.nhs24.scot/111/; Young Scot, "
        "“What to do if you have to call 999”, "
        "https://young.scot/get-informed/national/what-to-do-if-you-have-to-call-999",
        checked=CHECKED,
        # The Welsh Ambulance Service's advice; no source for the rest of the UK was found.
        interpreter=True,
        interpreter_nations=("Wales",),
        interpreter_source="NHS 111 Wales, “If you need an interpreter on a 999 call”, "
        "https://111.wales.nhs.uk/localservices/informationinotherlanguages/"
        "LSInfoOtherLanguagePage8/",
    ),
)

# Shown first to anyone under 18 who searches for a group (docs/matching.md, "Under-18s").
# Sources: Childline (NSPCC), childline.org.uk/get-support/contacting-childline;
# Shout, giveusashout.org (the same line as in DEFAULT_CRISIS_CONTACTS); Papyrus
# HOPELINE247's call number, papyrus-uk.org/help-advice/about-hopelineuk/remit-of-service-policy
# (its text number differs between Papyrus's own pages, so it is left out); open day and
# night since 2023 (Papyrus's appeal, reported by NationalWorld, 7 February 2025).
# A deployment lists its own with
# PEERHUB_YOUNG_PEOPLE_SERVICES (a JSON file in the crisis contacts' format).
DEFAULT_YOUNG_PEOPLE_SERVICES: tuple[CrisisContact, ...] = (
    CrisisContact(
        "Childline",
        _("Call 0800 1111"),
        _("Free and confidential, for anyone under 19 in the UK. You can also chat online."),
        "tel:08001111",
        source="Childline (NSPCC), https://www.childline.org.uk/get-support/contacting-childline/",
        checked=CHECKED,
    ),
    CrisisContact(
        "Shout",
        _("Text SHOUT to 85258"),
        _("Free, confidential text support, any time."),
        "sms:85258?body=SHOUT",
        source="Shout 85258, “FAQ”, https://giveusashout.org/about-us/faq/",
        checked=CHECKED,
    ),
    CrisisContact(
        "Papyrus HOPELINE247",
        _("Call 0800 068 4141"),
        _("For anyone under 35 having thoughts of suicide, any time."),
        "tel:08000684141",
        source="Papyrus, https://www.papyrus-uk.org/help-advice/about-hopelineuk/"
        "remit-of-service-policy; open day and night since 2023 (Papyrus's appeal, "
        "reported by NationalWorld, 7 February 2025)",
        checked=CHECKED,
    ),
)

#: Routes shown where they fit the person: sign-language and text routes, the nations'
#: own lines, lines in other languages. Sources: docs/safety/crisis-contacts.md.
DEFAULT_FITTED_CONTACTS: tuple[CrisisContact, ...] = (
    CrisisContact(
        "999 BSL",
        _("Use the 999 BSL app or website"),
        _(
            "Emergency calls in British Sign Language through a BSL interpreter. Free, any "
            "time, no need to register. For emergencies only."
        ),
        "https://www.999bsl.co.uk",
        sign_language=True,
        modes=("video",),
        general=False,
        source="Ofcom, “New 999 video call service launches for sign language users”, "
        "https://www.ofcom.org.uk/phones-and-broadband/accessibility/new-999-video-call-service/",
        checked=CHECKED,
    ),
    CrisisContact(
        "emergencySMS",
        _("Text 999"),
        _(
            "Emergency help by text message, for Deaf people and people who cannot use a "
            "voice call. Register your phone first by texting REGISTER to 999; the reply "
            "can take two minutes."
        ),
        "sms:999",
        sign_language=True,
        modes=("text",),
        general=False,
        source="South Tees Hospitals NHS Foundation Trust, Audiology, “EmergencySMS”, "
        "https://www.southtees.nhs.uk/services/audiology/emergencysms/",
        checked=CHECKED,
    ),
    CrisisContact(
        "NHS 111 by textphone",
        _("Call 18001 111 from a textphone or the Relay UK app"),
        _("NHS 111 through a relay assistant who types what the adviser says."),
        "tel:18001111",
        nations=("England",),
        sign_language=True,
        modes=("text",),
        general=False,
        source=_NHS_LONDON_111,
        checked=CHECKED,
    ),
    CrisisContact(
        "NHS 24, 111",
        _("Call 111"),
        _("The NHS in Scotland, any time; ask for the mental health hub."),
        "tel:111",
        nations=("Scotland",),
        general=False,
        source="NHS 24, “When to phone 111” (“you need support with mental health "
        "distress”), https://www.nhs24.scot/111/; Scottish Government, 30 March 2020, "
        "https://clarehaughey.scot/2020/03/30/funding-for-digital-mental-health-services/",
        checked=CHECKED,
    ),
    CrisisContact(
        "Breathing Space",
        _("Call 0800 83 85 87"),
        _("Free, confidential listening for anyone in Scotland feeling low, stressed or anxious."),
        "tel:0800838587",
        nations=("Scotland",),
        general=False,
        hours=_("Monday to Thursday 6pm to 2am; Friday 6pm to Monday 6am"),
        source="Breathing Space (NHS 24), https://www.breathingspace.scot/",
        checked=CHECKED,
    ),
    CrisisContact(
        "Breathing Space by textphone",
        _("Call 18001 0800 22 44 88 from a textphone"),
        _("Breathing Space for Deaf and hard of hearing people in Scotland."),
        "tel:180010800224488",
        nations=("Scotland",),
        sign_language=True,
        modes=("text",),
        general=False,
        hours=_("Monday to Thursday 6pm to 2am; Friday 6pm to Monday 6am"),
        source="Disability Equality Scotland, August 2022, https://disabilityequality.scot/"
        "weekly-poll-nhs-24-breathing-space-week-beginning-15-august-2022/; hours: "
        "https://www.breathingspace.scot/",
        checked=CHECKED,
    ),
    CrisisContact(
        "Lifeline",
        _("Call 0808 808 8000"),
        _(
            "Northern Ireland's crisis response helpline: free, any time, for anyone in "
            "distress or despair."
        ),
        "tel:08088088000",
        nations=("Northern Ireland",),
        general=False,
        source="Lifeline, “About Lifeline”, https://www.lifelinehelpline.info/page/about.html",
        checked=CHECKED,
    ),
    CrisisContact(
        "Lifeline by textphone",
        _("Call 18001 0808 808 8000 from a textphone"),
        _("Lifeline for Deaf and hard of hearing people in Northern Ireland, free, any time."),
        "tel:1800108088088000",
        nations=("Northern Ireland",),
        sign_language=True,
        modes=("text",),
        general=False,
        source="Contact NI, “Lifeline”, http://contactni.com/projects/lifeline.php",
        checked=CHECKED,
    ),
    CrisisContact(
        "Samaritans in Welsh",
        _("Call 0808 164 0123"),
        _("Samaritans' Welsh Language Line: talk in Welsh, free."),
        "tel:08081640123",
        languages=("cy",),
        general=False,
        hours=_("Every day, 7pm to 11pm"),
        source="Samaritans Cymru, “Talk to Us” (Nation Radio Wales, 1 July 2021), "
        "https://campaign.nationradio.wales/",
        checked=CHECKED,
    ),
)

#: Every default's English text (how, description, hours): translated where shown;
#: a deployment's own text is shown as it is written (or per language, ``descriptions``).
DEFAULT_TEXTS: Final[frozenset[str]] = frozenset(
    text
    for c in (*DEFAULT_CRISIS_CONTACTS, *DEFAULT_YOUNG_PEOPLE_SERVICES, *DEFAULT_FITTED_CONTACTS)
    for text in (c.how, c.description, c.hours)
    if text
)

_DB_SCHEMES = {"sqlite+aiosqlite", "postgresql+asyncpg"}
_DB_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    secret_key: str
    base_url: str
    allowed_origins: tuple[str, ...]
    data_dir: Path
    frontend_dir: Path  # templates/ and static/
    # The contacts every page shows; crisis_routes adds those shown where they fit the
    # person (empty: the defaults' fitted routes when crisis_contacts are the defaults).
    crisis_contacts: tuple[CrisisContact, ...]
    redis_url: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    # Sign-in lifetimes (seconds). Idle: no request for this long ends the sign-in.
    # (Their environment variables keep their names: PEERHUB_SESSION_*_SECONDS.)
    sign_in_idle_timeout: int = 60 * 60 * 2
    sign_in_absolute_timeout: int = 60 * 60 * 24 * 7
    # argon2 parameters: None means argon2-cffi's defaults (RFC 9106 low-memory profile).
    # Tests pass cheap parameters; production never sets these.
    argon2_params: Mapping[str, int] | None = None
    password_hash_concurrency: int = 4
    demo_banner: bool = False
    # Offer the pseudo-language "en-XA" (tests of translation coverage only).
    pseudo_locale: bool = False
    young_people_services: tuple[CrisisContact, ...] = DEFAULT_YOUNG_PEOPLE_SERVICES
    crisis_routes: tuple[CrisisContact, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def sign_in_cookie_name(self) -> str:
        # __Host- pins the cookie to this exact host, path / and Secure (RFC 6265bis).
        return "__Host-peerhub_session" if self.secure_cookies else "peerhub_session"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def listening_on(self, host: str, port: int) -> Settings:
        """Use http://host:port as the public address (when none was configured)."""
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - comparison
        base = f"http://{shown}:{port}"
        extra = [f"http://localhost:{port}"] if shown in ("127.0.0.1", "localhost") else []
        previous = {self.base_url, "http://localhost:8000"}
        kept = [o for o in self.allowed_origins if o not in previous]
        origins = tuple(dict.fromkeys([base, *extra, *kept]))
        return replace(self, base_url=base, allowed_origins=origins)


def _origin_of(value: str, variable: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{variable}: {value!r} is not an http(s) URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{variable}: {value!r} must be an origin (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc}".lower()


def normalise_database_url(value: str, variable: str = "PEERHUB_DATABASE_URL") -> str:
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise ConfigError(f"{variable}: {value!r} is not a URL (expected scheme://...)")
    scheme = _DB_ALIASES.get(scheme, scheme)
    if scheme not in _DB_SCHEMES:
        allowed = ", ".join(sorted(_DB_SCHEMES))
        raise ConfigError(f"{variable}: unsupported scheme {scheme!r}; use one of {allowed}")
    return f"{scheme}://{rest}"


def _strings(item: dict[str, Any], key: str, variable: str, i: int) -> tuple[str, ...]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{variable}: entry {i} {key} must be a list of strings")
    return tuple(v.strip() for v in value)


_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def _descriptions(item: dict[str, Any], variable: str, i: int) -> tuple[tuple[str, str], ...]:
    """``"descriptions": {"cy": "…", "ur": "…"}``: the description in other languages."""
    value = item.get("descriptions", {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and _TAG.match(k.strip()) and isinstance(v, str) and v.strip()
        for k, v in value.items()
    ):
        raise ConfigError(
            f'{variable}: entry {i} descriptions must map language tags (like "cy") to text'
        )
    return tuple((k.strip(), v.strip()) for k, v in value.items())


def load_crisis_contacts(
    path: Path, variable: str = "PEERHUB_CRISIS_CONTACTS"
) -> tuple[CrisisContact, ...]:
    """Read a JSON list of ``{"name", "how", "description", "href"?}`` objects.

    Optional keys fit a contact to people (docs/deployment.md): ``nations`` (a list of
    England, Scotland, Wales, Northern Ireland), ``sign_language`` (true for a BSL or
    text route), ``languages`` (BCP 47 tags), ``modes`` (voice, text, video),
    ``general`` (false: shown only where it fits the person) and ``hours``. Where the
    number and hours come from: ``source`` (a web address or citation) and ``checked``
    (the date, ``YYYY-MM-DD``); ``interpreter`` (true where the source says callers
    can ask for one) with ``interpreter_source`` and ``interpreter_nations``;
    ``descriptions`` (the description in other languages, ``{"cy": "…"}``). See
    docs/safety/crisis-contacts.md."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {str(path)!r}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{variable}: {str(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{variable}: {str(path)!r} must hold a non-empty JSON list")
    contacts: list[CrisisContact] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(f"{variable}: entry {i} must be an object")
        try:
            name, how = str(item["name"]).strip(), str(item["how"]).strip()
        except KeyError as exc:
            raise ConfigError(f"{variable}: entry {i} lacks {exc.args[0]!r}") from exc
        if not name or not how:
            raise ConfigError(f"{variable}: entry {i} has an empty name or how")
        href = item.get("href")
        if href is not None and not str(href).startswith(("tel:", "sms:", "https://")):
            raise ConfigError(f"{variable}: entry {i} href must start tel:, sms: or https://")
        nations = _strings(item, "nations", variable, i)
        interpreter_nations = _strings(item, "interpreter_nations", variable, i)
        if any(n not in CONTACT_NATIONS for n in (*nations, *interpreter_nations)):
            raise ConfigError(
                f"{variable}: entry {i} nations must be among {', '.join(CONTACT_NATIONS)}"
            )
        modes = _strings(item, "modes", variable, i) or ("voice",)
        if any(m not in CONTACT_MODES for m in modes):
            raise ConfigError(f"{variable}: entry {i} modes must be among voice, text, video")
        for flag in ("sign_language", "general", "interpreter"):
            if not isinstance(item.get(flag, flag == "general"), bool):
                raise ConfigError(f"{variable}: entry {i} {flag} must be true or false")
        checked_raw = item.get("checked")
        checked: date | None = None
        if checked_raw is not None:
            try:
                checked = date.fromisoformat(str(checked_raw))
            except ValueError:
                raise ConfigError(
                    f"{variable}: entry {i} checked must be a date, like 2026-12-05"
                ) from None
        descriptions = _descriptions(item, variable, i)
        contacts.append(
            CrisisContact(
                name,
                how,
                str(item.get("description", "")),
                None if href is None else str(href),
                nations=nations,
                sign_language=bool(item.get("sign_language", False)),
                languages=_strings(item, "languages", variable, i),
                modes=modes,
                general=bool(item.get("general", True)),
                hours=str(item.get("hours", "")),
                source=str(item.get("source", "")).strip(),
                checked=checked,
                interpreter=bool(item.get("interpreter", False)),
                interpreter_nations=interpreter_nations,
                interpreter_source=str(item.get("interpreter_source", "")).strip(),
                descriptions=descriptions,
            )
        )
    if not any(c.general for c in contacts):
        raise ConfigError(f"{variable}: at least one entry must be general (shown everywhere)")
    return tuple(contacts)


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    value = env.get("PEERHUB_SECRET_KEY")
    if value is not None:
        if len(value) < 32:
            raise ConfigError("PEERHUB_SECRET_KEY: must be at least 32 characters")
        return value
    # Generated once and kept beside the data, readable only by this user.
    key_file = data_dir / "secret_key"
    try:
        if key_file.exists():
            key = key_file.read_text(encoding="utf-8").strip()
            if len(key) >= 32:
                return key
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
        return key
    except OSError as exc:
        raise ConfigError(
            f"PEERHUB_SECRET_KEY: unset, and {str(key_file)!r} cannot be written: {exc.strerror}"
        ) from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("PEERHUB_DATA_DIR", "data")).expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"PEERHUB_DATA_DIR: {str(data_dir)!r} is not a folder")

    db_raw = env.get("PEERHUB_DATABASE_URL")
    if db_raw is None:
        database_url = f"sqlite+aiosqlite:///{data_dir / 'peerhub.sqlite3'}"
    else:
        database_url = normalise_database_url(db_raw)

    redis_url = env.get("PEERHUB_REDIS_URL") or None
    if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"PEERHUB_REDIS_URL: unsupported scheme in {redis_url!r}; use redis://, rediss://"
        )

    base_url = _origin_of(env.get("PEERHUB_BASE_URL", "http://127.0.0.1:8000"), "PEERHUB_BASE_URL")
    origins_raw = env.get("PEERHUB_ALLOWED_ORIGINS", "")
    origins = [
        _origin_of(o.strip(), "PEERHUB_ALLOWED_ORIGINS")
        for o in origins_raw.split(",")
        if o.strip()
    ]
    if base_url not in origins:
        origins.insert(0, base_url)
    if base_url == "http://127.0.0.1:8000" and "http://localhost:8000" not in origins:
        origins.append("http://localhost:8000")

    # PEERHUB_WEB_DIR is the older name of PEERHUB_FRONTEND_DIR: still read, when alone.
    frontend_var = "PEERHUB_FRONTEND_DIR"
    if frontend_var not in env and "PEERHUB_WEB_DIR" in env:
        frontend_var = "PEERHUB_WEB_DIR"
    frontend_dir = Path(env.get(frontend_var, str(PACKAGE_DIR))).resolve()
    if not (frontend_dir / "templates").is_dir():
        raise ConfigError(f"{frontend_var}: {str(frontend_dir)!r} has no templates folder")

    contacts_path = env.get("PEERHUB_CRISIS_CONTACTS")
    routes = (
        DEFAULT_CRISIS_CONTACTS + DEFAULT_FITTED_CONTACTS
        if not contacts_path
        else load_crisis_contacts(Path(contacts_path))
    )
    contacts = tuple(c for c in routes if c.general)

    young_path = env.get("PEERHUB_YOUNG_PEOPLE_SERVICES")
    young = (
        DEFAULT_YOUNG_PEOPLE_SERVICES
        if not young_path
        else load_crisis_contacts(Path(young_path), "PEERHUB_YOUNG_PEOPLE_SERVICES")
    )

    proxies = tuple(
        p.strip() for p in env.get("PEERHUB_TRUSTED_PROXIES", "").split(",") if p.strip()
    )
    for proxy in proxies:
        # Checked here, not at the first request: a name such as "caddy" or a
        # mistyped network would otherwise fail every request that reads the address.
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(
                f"PEERHUB_TRUSTED_PROXIES: {proxy!r} is not an IP address or network "
                "(CIDR such as 172.16.0.0/12); names are not looked up"
            ) from None

    def _int(name: str, default: int, low: int) -> int:
        raw = env.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: {raw!r} is not a whole number") from exc
        if value < low:
            raise ConfigError(f"{name}: must be at least {low}")
        return value

    return Settings(
        database_url=database_url,
        secret_key=_secret_key(env, data_dir),
        base_url=base_url,
        allowed_origins=tuple(origins),
        data_dir=data_dir,
        frontend_dir=frontend_dir,
        crisis_contacts=contacts,
        young_people_services=young,
        crisis_routes=routes,
        redis_url=redis_url,
        trusted_proxies=proxies,
        sign_in_idle_timeout=_int("PEERHUB_SESSION_IDLE_SECONDS", 60 * 60 * 2, 60),
        sign_in_absolute_timeout=_int("PEERHUB_SESSION_MAX_SECONDS", 60 * 60 * 24 * 7, 300),
        pseudo_locale=env.get("PEERHUB_PSEUDO_LOCALE") == "1",
    )
