"""Benchmark serving the pages people see most, in a language (issue 12: the cost of
translation: catalogue look-ups, CLDR formatting, the language chosen per request).

Run:  .venv/bin/python bench/bench_pages.py [--root DIR] [--lang cy] [--rounds 5] [--number 40]

An app on a fresh SQLite database with the demo data, in this process, through httpx's
ASGI transport (no sockets: what is timed is PeerHub's own work). Each round fetches each
page ``--number`` times; the figure is milliseconds per page, the median over rounds.
``--root`` points at another checkout (an A/B against older code: the same pages,
timed by the same script). ``--lang`` is sent as ``Accept-Language``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

PAGES = (
    "/",
    "/crisis",
    "/groups",
    "/find?search=1&languages=ur&stage=recovery",
    "/groups/roshni-punjabi-carers-online",
    "/login",
)


async def run(args: argparse.Namespace) -> dict[str, float]:
    import httpx

    from peerhub import migrate
    from peerhub.app import create_app
    from peerhub.config import load_settings
    from peerhub.db import make_engine, make_sessionmaker
    from peerhub.demo import load_demo
    from peerhub.security.passwords import Passwords

    folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    await migrate.upgrade(url)
    engine = make_engine(url)
    cheap = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    from datetime import UTC, datetime

    await load_demo(make_sessionmaker(engine), Passwords(cheap), datetime(2026, 11, 2, tzinfo=UTC))
    await engine.dispose()
    settings = load_settings(
        {
            "PEERHUB_DATABASE_URL": url,
            "PEERHUB_DATA_DIR": str(folder),
            "PEERHUB_SECRET_KEY": "b" * 64,
        }
    )
    app = create_app(settings)
    headers = {"Accept-Language": args.lang}
    out: dict[str, list[float]] = {page: [] for page in PAGES}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            for page in PAGES:  # warm-up: templates compiled, catalogues loaded
                answer = await c.get(page, headers=headers)
                assert answer.status_code == 200, (page, answer.status_code)
            for _ in range(args.rounds):
                for page in PAGES:
                    began = time.perf_counter()
                    for _ in range(args.number):
                        await c.get(page, headers=headers)
                    out[page].append((time.perf_counter() - began) * 1000 / args.number)
    return {page: statistics.median(times) for page, times in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--lang", default="en-GB")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=40)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    figures = asyncio.run(run(args))
    for page, ms in figures.items():
        print(f"{ms:8.2f} ms  {page}")
    print(f"{statistics.mean(figures.values()):8.2f} ms  mean of the pages ({args.lang})")


if __name__ == "__main__":
    main()
