"""Build hook: a built package carries each language's compiled catalogue (.mo).

Everything else about the package is in pyproject.toml. The catalogues are compiled with
Babel from the PO files under peerhub/locale (docs/translating.md); a checkout run
without a build compiles them in memory when PeerHub starts (peerhub/i18n.py).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in Path(self.build_lib, "peerhub", "locale").glob("*/LC_MESSAGES/*.po"):
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name, domain=po.stem)
            with po.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalog)


setup(cmdclass={"build_py": BuildWithCatalogues})
