"""The container deployment: docker-compose.yml, Dockerfile and deploy/Caddyfile.

There is no Docker engine in CI, so these tests prove what can be proved without
one: the compose files are valid against the Compose Specification's JSON Schema
(vendored in tests/standards/compose with its licence), and the promises
docs/deployment.md makes about topology, health checks, volumes and
configuration hold.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema.validators import validator_for

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO / "tests" / "standards" / "compose" / "compose-spec.json"
COMPOSE_PATH = REPO / "docker-compose.yml"
HTTPS_OVERRIDE_PATH = REPO / "deploy" / "compose.https.yml"
CADDYFILE_PATH = REPO / "deploy" / "Caddyfile"
DOCKERFILE_PATH = REPO / "Dockerfile"
DOCKERIGNORE_PATH = REPO / ".dockerignore"

PEERHUB_SERVICES = ("peerhub-1", "peerhub-2")
ONE_SHOT_SERVICES = frozenset({"migrate", "demo"})
APP_PORT = 8000
# Inside a container the app must listen on all of the container's interfaces;
# only the proxy's port is published on the host.
SERVE_COMMAND = ["serve", "--host", "0.0.0.0", "--port", str(APP_PORT)]
# What a user must set before `docker compose up`; everything else has a default.
REQUIRED_ENV = {"PEERHUB_SECRET_KEY": "test-secret-not-for-production-0123456789"}


# --- Compose variable interpolation -------------------------------------------
# Just enough of the Compose Specification's interpolation to check the values a
# container would really get: $$, $NAME, ${NAME}, ${NAME:-default},
# ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, ${NAME+alt},
# with nesting in the default.

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", "-", ":?", "?", ":+", "+")


class MissingVariableError(Exception):
    """A ${NAME:?message} whose variable is not set."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
            continue
        following = text[i + 1 : i + 2]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = _closing_brace(text, i + 2)
            out.append(_expand(text[i + 2 : end], env))
            i = end + 1
        elif match := _NAME.match(text, i + 1):
            out.append(env.get(match.group(), ""))
            i = match.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError(f"unclosed ${{ in {text!r}")


def _expand(expression: str, env: Mapping[str, str]) -> str:
    match = _NAME.match(expression)
    if match is None:
        raise ValueError(f"bad variable name in ${{{expression}}}")
    name, rest = match.group(), expression[match.end() :]
    value = env.get(name)
    if not rest:
        return value or ""
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise ValueError(f"unsupported interpolation ${{{expression}}}")
    argument = rest[len(operator) :]
    # With a colon an empty value counts as unset, without one only unset does.
    is_set = value is not None and (value != "" or not operator.startswith(":"))
    if operator in (":-", "-"):
        return value if is_set and value is not None else interpolate(argument, env)
    if operator in (":?", "?"):
        if not is_set or value is None:
            raise MissingVariableError(f"{name}: {interpolate(argument, env)}")
        return value
    return interpolate(argument, env) if is_set else ""


def resolve(node: Any, env: Mapping[str, str]) -> Any:
    """Interpolate every string value in a loaded compose document."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


# --- Fixtures -------------------------------------------------------------------


def _load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path.name} is not a mapping"
    return document


def _validator_class(schema: dict[str, Any]) -> Any:
    """The validator for the draft the schema's $schema declares, never a guess.

    The compose spec writes draft-07's meta-schema as
    "https://json-schema.org/draft-07/schema"; jsonschema registers it under its
    canonical spelling "http://json-schema.org/draft-07/schema". Same
    meta-schema, so the other scheme is tried too. Without a match the test
    fails instead of falling back to the latest draft, as validator_for would.
    """
    declared = schema.get("$schema")
    if not isinstance(declared, str):
        pytest.fail(f"{SCHEMA_PATH} declares no $schema")
    bare = declared.rstrip("#")
    candidates = [declared, bare]
    if bare.startswith("https://"):
        candidates.append("http://" + bare.removeprefix("https://"))
    elif bare.startswith("http://"):
        candidates.append("https://" + bare.removeprefix("http://"))
    for candidate in candidates:
        # None for an unknown $schema, as jsonschema documents; its stubs leave None out.
        found = validator_for({"$schema": candidate}, default=None)  # type: ignore[arg-type]
        if found is not None:
            return found
    pytest.fail(f"jsonschema knows no validator for $schema {declared!r}")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    # The schema is vendored in the repository: a missing copy is a broken
    # checkout, and must fail rather than skip the validation.
    if not SCHEMA_PATH.is_file():
        pytest.fail(f"Compose Specification schema not found at {SCHEMA_PATH}")
    loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Any:
    cls = _validator_class(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_yaml(COMPOSE_PATH)


@pytest.fixture(scope="module")
def resolved(compose: dict[str, Any]) -> dict[str, Any]:
    """The compose file as a container sees it, with only the required variables set."""
    result = resolve(compose, REQUIRED_ENV)
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def services(resolved: dict[str, Any]) -> dict[str, Any]:
    result = resolved["services"]
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def caddyfile() -> str:
    return CADDYFILE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _dockerfile_instructions(DOCKERFILE_PATH.read_text(encoding="utf-8"))


# --- Helpers --------------------------------------------------------------------


def _errors(validator: Any, document: Any) -> list[str]:
    return sorted(
        f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    )


def _peerhub_image(resolved: dict[str, Any]) -> str:
    image = resolved["x-peerhub"]["image"]
    assert isinstance(image, str)
    return image


def _peerhub_image_services(resolved: dict[str, Any]) -> dict[str, Any]:
    image = _peerhub_image(resolved)
    return {
        name: service
        for name, service in resolved["services"].items()
        if service.get("image") == image
    }


def _mounts(service: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(type, source, target) for each entry of a service's volumes."""
    mounts = []
    for entry in service.get("volumes", []):
        if isinstance(entry, str):
            source, _, rest = entry.partition(":")
            target = rest.split(":")[0]
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            mounts.append((kind, source, target))
        else:
            mounts.append((entry.get("type", "volume"), entry.get("source", ""), entry["target"]))
    return mounts


def _tmpfs(service: Mapping[str, Any]) -> list[str]:
    value = service.get("tmpfs", [])
    entries = [value] if isinstance(value, str) else value
    return [entry.split(":")[0] for entry in entries]


def _command(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else list(command)


def _healthcheck_text(service: Mapping[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def _networks(service: Mapping[str, Any]) -> set[str]:
    networks = service.get("networks", ["default"])
    return set(networks)


def _container_ports(service: Mapping[str, Any]) -> set[int]:
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # blank, a comment, or a parser directive such as "# syntax="
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _exec_form(arguments: str) -> list[str]:
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), f"expected exec (JSON) form, got {arguments!r}"
    return [str(part) for part in parsed]


def _caddy_upstream_lines(caddyfile: str) -> list[list[str]]:
    """The upstream addresses of every reverse_proxy directive."""
    lines = []
    for raw in caddyfile.splitlines():
        tokens = raw.split("#", 1)[0].split()
        if not tokens or tokens[0] != "reverse_proxy":
            continue
        upstreams = [
            token
            for token in tokens[1:]
            if token != "{" and not token.startswith(("@", "/")) and token != "*"
        ]
        lines.append(upstreams)
    return lines


def _dockerignore_patterns() -> list[str]:
    patterns = []
    for raw in DOCKERIGNORE_PATH.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return patterns


def _is_ignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.removeprefix("!").strip("/")
        anywhere = bare.startswith("**/")
        bare = bare.removeprefix("**/")
        parts = Path(path).parts
        candidates = [path] + ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if anywhere:
            candidates += list(parts)
        if any(fnmatch.fnmatchcase(candidate, bare) for candidate in candidates):
            ignored = not negated
    return ignored


# --- The schema and the validator -------------------------------------------------


def test_schema_is_present_and_declares_a_known_draft(schema: dict[str, Any]) -> None:
    cls = _validator_class(schema)
    declared = urlsplit(schema["$schema"].rstrip("#"))
    meta = urlsplit(str(cls.ID_OF(cls.META_SCHEMA)).rstrip("#"))
    assert (meta.netloc, meta.path) == (declared.netloc, declared.path)
    cls.check_schema(schema)


def test_compose_file_is_valid_against_the_compose_spec(
    validator: Any, compose: dict[str, Any], resolved: dict[str, Any]
) -> None:
    assert _errors(validator, compose) == []
    # Compose validates after interpolation too.
    assert _errors(validator, resolved) == []


def test_https_override_is_valid_against_the_compose_spec(validator: Any) -> None:
    override = _load_yaml(HTTPS_OVERRIDE_PATH)
    assert _errors(validator, override) == []
    env = {**REQUIRED_ENV, "PEERHUB_DOMAIN": "peerhub.example.org"}
    assert _errors(validator, resolve(override, env)) == []


def _broken_ports(document: dict[str, Any]) -> None:
    document["services"]["proxy"]["ports"] = "not-a-list"


def _unknown_top_level_key(document: dict[str, Any]) -> None:
    document["servics"] = {}


def _misspelt_healthcheck_key(document: dict[str, Any]) -> None:
    document["services"]["postgres"]["healthcheck"]["intervall"] = "5s"


def _unknown_depends_on_condition(document: dict[str, Any]) -> None:
    document["services"]["peerhub-1"]["depends_on"]["migrate"]["condition"] = "service_completed"


def _service_without_a_name_pattern(document: dict[str, Any]) -> None:
    document["services"]["bad name!"] = {"image": "redis:7"}


@pytest.mark.parametrize(
    "breakage",
    [
        _broken_ports,
        _unknown_top_level_key,
        _misspelt_healthcheck_key,
        _unknown_depends_on_condition,
        _service_without_a_name_pattern,
    ],
    ids=lambda breakage: breakage.__name__.strip("_"),
)
def test_validator_rejects_a_broken_compose_document(
    validator: Any, compose: dict[str, Any], breakage: Any
) -> None:
    # Each breakage is applied to a copy of the real file, so the validation
    # demonstrably reaches that far into this document (nested $refs included).
    document = copy.deepcopy(compose)
    breakage(document)
    assert _errors(validator, document) != []


# --- Topology ---------------------------------------------------------------------


def test_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def test_expected_services_and_images(services: dict[str, Any]) -> None:
    assert {"postgres", "redis", "migrate", "proxy", *PEERHUB_SERVICES} <= services.keys()
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["proxy"]["image"] == "caddy:2"


def test_peerhub_image_is_built_from_this_repository_once(resolved: dict[str, Any]) -> None:
    users = _peerhub_image_services(resolved)
    assert {"migrate", *PEERHUB_SERVICES} <= users.keys()
    builders = {name: service["build"] for name, service in users.items() if "build" in service}
    # One build; the other services reuse the image it tags (Compose does not
    # pull an image that another service builds).
    assert len(builders) == 1, builders
    (build,) = builders.values()
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (REPO / context).resolve() == REPO
    assert (REPO / context / dockerfile).is_file()


def test_shared_environment_comes_from_x_peerhub(resolved: dict[str, Any]) -> None:
    shared = resolved["x-peerhub"]["environment"]
    for name, service in _peerhub_image_services(resolved).items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), name
        missing = {key for key in shared if environment.get(key) != shared[key]}
        assert not missing, f"{name} lacks the shared settings {sorted(missing)}"


def test_peerhub_processes_reach_the_compose_postgres_and_redis(
    services: dict[str, Any],
) -> None:
    postgres_env = services["postgres"]["environment"]
    for name in PEERHUB_SERVICES:
        environment = services[name]["environment"]

        database = urlsplit(environment["PEERHUB_DATABASE_URL"])
        assert database.scheme == "postgresql+asyncpg"
        assert database.hostname == "postgres"
        assert database.hostname in services
        assert database.port == 5432
        assert database.username == postgres_env["POSTGRES_USER"]
        assert database.password == postgres_env["POSTGRES_PASSWORD"]
        assert database.path.lstrip("/") == postgres_env["POSTGRES_DB"]

        redis = urlsplit(environment["PEERHUB_REDIS_URL"])
        assert redis.scheme == "redis"
        assert redis.hostname == "redis"
        assert redis.hostname in services
        assert redis.port == 6379

        for backing in ("postgres", "redis"):
            shared = _networks(services[name]) & _networks(services[backing])
            assert shared, f"{name} and {backing} share no network"


def test_postgres_password_override_reaches_both_sides(compose: dict[str, Any]) -> None:
    env = {**REQUIRED_ENV, "POSTGRES_PASSWORD": "s3cret"}
    services = resolve(compose, env)["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    for name in ("migrate", *PEERHUB_SERVICES):
        url = urlsplit(services[name]["environment"]["PEERHUB_DATABASE_URL"])
        assert url.password == "s3cret"


def test_secret_key_is_required_and_never_defaulted(compose: dict[str, Any]) -> None:
    raw = compose["x-peerhub"]["environment"]["PEERHUB_SECRET_KEY"]
    assert re.fullmatch(r"\$\{PEERHUB_SECRET_KEY:\?[^}]+\}", raw), raw
    with pytest.raises(MissingVariableError, match="PEERHUB_SECRET_KEY"):
        resolve(compose, {})
    with pytest.raises(MissingVariableError, match="PEERHUB_SECRET_KEY"):
        resolve(compose, {"PEERHUB_SECRET_KEY": ""})
    resolved = resolve(compose, {"PEERHUB_SECRET_KEY": "from-the-environment"})
    for name in _peerhub_image_services(resolved):
        environment = resolved["services"][name]["environment"]
        assert environment["PEERHUB_SECRET_KEY"] == "from-the-environment"


def test_public_url_matches_the_published_proxy(compose: dict[str, Any]) -> None:
    services = resolve(compose, REQUIRED_ENV)["services"]
    environment = services["peerhub-1"]["environment"]
    base = urlsplit(environment["PEERHUB_BASE_URL"])
    assert (base.scheme, base.hostname) == ("http", "localhost")
    published = {int(str(entry).split(":")[0]) for entry in services["proxy"]["ports"]}
    assert base.port in published
    # The app always allows its own base URL; this lists extra origins only.
    assert environment["PEERHUB_ALLOWED_ORIGINS"] == ""


def test_https_override_switches_the_public_url(compose: dict[str, Any]) -> None:
    env = {**REQUIRED_ENV, "PEERHUB_DOMAIN": "peerhub.example.org"}
    override = resolve(_load_yaml(HTTPS_OVERRIDE_PATH), env)["services"]
    assert override["proxy"]["environment"]["PEERHUB_SITE_ADDRESS"] == "peerhub.example.org"
    assert {"80:80", "443:443"} <= set(override["proxy"]["ports"])
    for name in _peerhub_image_services(resolve(compose, env)):
        assert override[name]["environment"]["PEERHUB_BASE_URL"] == "https://peerhub.example.org"
    with pytest.raises(MissingVariableError, match="PEERHUB_DOMAIN"):
        resolve(_load_yaml(HTTPS_OVERRIDE_PATH), REQUIRED_ENV)


def test_start_order(services: dict[str, Any]) -> None:
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert _command(services["migrate"]) == ["migrate"]
    for name in PEERHUB_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["redis"]["condition"] == "service_healthy"
    assert set(PEERHUB_SERVICES) <= services["proxy"]["depends_on"].keys()


def test_peerhub_processes_serve_on_the_app_port(services: dict[str, Any]) -> None:
    for name in PEERHUB_SERVICES:
        assert _command(services[name]) == SERVE_COMMAND
        assert "ports" not in services[name], "only the proxy is published"


def test_demo_profile_loads_demo_data(services: dict[str, Any]) -> None:
    demo = services["demo"]
    assert demo["profiles"] == ["demo"]
    assert _command(demo) == ["demo"]
    assert demo["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


# --- Health and restarts -----------------------------------------------------------


def test_restart_policies(services: dict[str, Any]) -> None:
    for name, service in services.items():
        expected = "no" if name in ONE_SHOT_SERVICES else "unless-stopped"
        assert service.get("restart") == expected, name


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    long_running = set(services) - ONE_SHOT_SERVICES
    assert {"postgres", "redis", "proxy", *PEERHUB_SERVICES} <= long_running
    for name in long_running:
        healthcheck = services[name].get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), name
        assert healthcheck.get("test"), name


def test_healthchecks_check_the_right_thing(services: dict[str, Any]) -> None:
    assert "pg_isready" in _healthcheck_text(services["postgres"])
    assert "redis-cli ping" in _healthcheck_text(services["redis"])
    for name in PEERHUB_SERVICES:
        text = _healthcheck_text(services[name])
        assert re.search(rf"127\.0\.0\.1:{APP_PORT}/(readyz|healthz)", text), text
        assert "curl" not in text, "python:3.11-slim has no curl"


# --- Volumes ------------------------------------------------------------------------


def test_named_volumes_are_declared_and_used(resolved: dict[str, Any]) -> None:
    declared = set(resolved.get("volumes") or {})
    used = {
        source
        for service in resolved["services"].values()
        for kind, source, _ in _mounts(service)
        if kind == "volume" and source
    }
    assert used <= declared, f"undeclared named volumes: {sorted(used - declared)}"
    assert declared <= used, f"declared but unused volumes: {sorted(declared - used)}"


def test_state_lives_on_named_volumes(services: dict[str, Any]) -> None:
    assert ("volume", "postgres-data", "/var/lib/postgresql/data") in _mounts(services["postgres"])
    proxy_mounts = _mounts(services["proxy"])
    assert any(kind == "volume" and target == "/data" for kind, _, target in proxy_mounts)
    assert any(kind == "volume" and target == "/config" for kind, _, target in proxy_mounts)


def test_every_peerhub_container_can_write_its_data_dir(resolved: dict[str, Any]) -> None:
    data_volumes = []
    for name, service in _peerhub_image_services(resolved).items():
        data_dir = service["environment"]["PEERHUB_DATA_DIR"]
        volumes = [source for kind, source, target in _mounts(service) if target == data_dir]
        on_tmpfs = data_dir in _tmpfs(service)
        assert volumes or on_tmpfs or not service.get("read_only"), (
            f"{name}: {data_dir} is on a read-only root file system"
        )
        if name in PEERHUB_SERVICES:
            assert volumes, f"{name} keeps {data_dir} on a named volume"
            data_volumes += volumes
    assert len(data_volumes) == len(set(data_volumes)), "each process has its own data volume"


# --- The proxy -------------------------------------------------------------------------


def test_proxy_publishes_the_caddy_site_port(services: dict[str, Any], caddyfile: str) -> None:
    proxy = services["proxy"]
    assert proxy.get("ports"), "the proxy publishes no port"
    site = re.search(r"\{\$PEERHUB_SITE_ADDRESS:([^}]*)\}", caddyfile)
    assert site, "the Caddyfile's site address is not taken from PEERHUB_SITE_ADDRESS"
    assert site.group(1) == ":8080"
    address = proxy["environment"]["PEERHUB_SITE_ADDRESS"]
    assert address == ":8080"
    assert int(address.lstrip(":")) in _container_ports(proxy)


def test_proxy_mounts_the_caddyfile(compose: dict[str, Any]) -> None:
    mounts = _mounts(compose["services"]["proxy"])
    binds = {target: source for kind, source, target in mounts if kind == "bind"}
    assert binds.get("/etc/caddy/Caddyfile") == "./deploy/Caddyfile"
    assert (REPO / "deploy" / "Caddyfile").is_file()


def test_caddyfile_balances_both_peerhub_processes(
    caddyfile: str, services: dict[str, Any]
) -> None:
    upstream_lines = _caddy_upstream_lines(caddyfile)
    assert upstream_lines, "no reverse_proxy directive"
    for upstreams in upstream_lines:
        hosts = {upstream.rsplit(":", 1)[0] for upstream in upstreams}
        assert hosts == set(PEERHUB_SERVICES), upstreams
        for host in hosts:
            assert _networks(services[host]) & _networks(services["proxy"]), host
    # The non-WebSocket traffic goes to the port the processes serve on.
    assert f"peerhub-1:{APP_PORT}" in upstream_lines[-1]
    assert f"peerhub-2:{APP_PORT}" in upstream_lines[-1]
    assert re.search(r"^\s*lb_policy\s+\S+", caddyfile, re.MULTILINE)
    assert re.search(r"^\s*health_uri\s+/healthz\s*$", caddyfile, re.MULTILINE)
    assert re.search(rf"^\s*health_port\s+{APP_PORT}\s*$", caddyfile, re.MULTILINE)
    assert re.search(r"^\s*header\s+-Server\s*$", caddyfile, re.MULTILINE)
    assert re.search(r"^\s*@chat\s+path\s+/ws\b", caddyfile, re.MULTILINE)


def test_caddyfile_is_accepted_by_caddy(caddyfile: str, tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (optional: apt-get install caddy)")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(CADDYFILE_PATH), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["apps"]["http"]["servers"]


# --- Image --------------------------------------------------------------------------------


def test_dockerfile_base_image_and_entrypoint(dockerfile: list[tuple[str, str]]) -> None:
    froms = [arguments for keyword, arguments in dockerfile if keyword == "FROM"]
    assert froms and froms[-1].split()[0] == "python:3.11-slim"
    (entrypoint,) = [arguments for keyword, arguments in dockerfile if keyword == "ENTRYPOINT"]
    assert _exec_form(entrypoint) == ["peerhub"]
    (command,) = [arguments for keyword, arguments in dockerfile if keyword == "CMD"]
    assert _exec_form(command) == SERVE_COMMAND
    exposed = [arguments for keyword, arguments in dockerfile if keyword == "EXPOSE"]
    assert str(APP_PORT) in " ".join(exposed).split()


def test_dockerfile_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = [arguments for keyword, arguments in dockerfile if keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"}
    assert group not in {"root", "0"}


def test_dockerfile_healthcheck_uses_python(dockerfile: list[tuple[str, str]]) -> None:
    (healthcheck,) = [arguments for keyword, arguments in dockerfile if keyword == "HEALTHCHECK"]
    assert "CMD" in healthcheck
    assert "urllib" in healthcheck
    assert f"127.0.0.1:{APP_PORT}/healthz" in healthcheck
    assert "curl" not in healthcheck


def test_dockerfile_bakes_in_no_secret(dockerfile: list[tuple[str, str]]) -> None:
    for keyword, arguments in dockerfile:
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"SECRET|PASSWORD|TOKEN", arguments, re.IGNORECASE), arguments


def test_dockerfile_serves_pages_from_the_installed_package(
    dockerfile: list[tuple[str, str]],
) -> None:
    """The templates and static files are package data (peerhub/templates, peerhub/static),
    so the image installs the package and needs no PEERHUB_FRONTEND_DIR (nor its older name,
    PEERHUB_WEB_DIR) and no copy beside it
    (tests/test_wheel.py serves pages from an installed wheel)."""
    environment = " ".join(arguments for keyword, arguments in dockerfile if keyword == "ENV")
    assert "PEERHUB_FRONTEND_DIR" not in environment and "PEERHUB_WEB_DIR" not in environment
    copies = [arguments.split() for keyword, arguments in dockerfile if keyword == "COPY"]
    sources = {source.rstrip("/") for parts in copies for source in parts[:-1]}
    assert "peerhub" in sources
    assert "web" not in sources
    # setup.py compiles the translations into the package at build time.
    assert "setup.py" in sources
    runs = " ".join(arguments for keyword, arguments in dockerfile if keyword == "RUN")
    assert re.search(r"pip install\b[^&]*\s/app\b", runs), "the package is not installed"
    assert not re.search(r"pip install\b[^&]*\s(-e|--editable)\s", runs), "installed editable"


def test_dockerfile_installs_exactly_the_runtime_lock(
    dockerfile: list[tuple[str, str]],
) -> None:
    """The image runs what requirements.lock pins: installed hash-checked, and the package
    after it with --no-deps (nothing resolved at build time)."""
    copies = [arguments.split() for keyword, arguments in dockerfile if keyword == "COPY"]
    assert "requirements.lock" in {source for parts in copies for source in parts[:-1]}
    runs = [arguments for keyword, arguments in dockerfile if keyword == "RUN"]
    lock = [r for r in runs if "-r requirements.lock" in r]
    assert lock and "--require-hashes" in lock[0]
    package = [r for r in runs if re.search(r"pip install\b[^&]*\s/app\b", r)]
    assert package and "--no-deps" in package[0]
    assert runs.index(lock[0]) < runs.index(package[0])


def test_dockerfile_copies_files_that_exist_and_are_not_ignored(
    dockerfile: list[tuple[str, str]],
) -> None:
    patterns = _dockerignore_patterns()
    sources = [
        source
        for keyword, arguments in dockerfile
        if keyword == "COPY"
        for source in arguments.split()[:-1]
        if not source.startswith("--")
    ]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
        assert not _is_ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    # The build needs the readme pyproject.toml names, so it must be copied in.
    readme = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"].get(
        "readme"
    )
    if isinstance(readme, str):
        assert readme in sources, f"pyproject.toml's readme {readme} is not copied"


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    patterns = _dockerignore_patterns()
    for path in (".git", ".venv", ".env", "data", "peerhub/__pycache__", ".pytest_cache"):
        assert _is_ignored(path, patterns), f"{path} is not excluded"
    kept = (
        "pyproject.toml",
        "README.md",
        "peerhub/app.py",
        "peerhub/data/x.json",
        "setup.py",
        "peerhub/templates/base.html",
        "peerhub/static/css/site.css",
    )
    for path in kept:
        assert not _is_ignored(path, patterns), f"{path} would be missing from the build"
