"""The release people adopt: one version (pyproject.toml), shown by the command and on every page,
and the licence the project is published under."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_command_prints_the_version_of_pyproject():
    version = _pyproject()["project"]["version"]
    done = subprocess.run(
        [sys.executable, "-m", "jianjian.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"jianjian {version}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"), [("zh-hans", "Apache 2.0 许可证"), ("en", "Apache License 2.0")]
)
def test_every_page_footer_names_the_version_and_the_licence(client, language, words):
    version = _pyproject()["project"]["version"]
    client.cookies["django_language"] = language
    page = client.get("/login/").content.decode()
    footer = page.split('<footer class="site-footer">', 1)[1].split("</footer>", 1)[0]
    assert version in footer and words in footer


def test_the_licence_is_apache_2_and_pyproject_says_so():
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert "Version 2.0, January 2004" in (ROOT / "LICENSE").read_text()
    assert _pyproject()["project"]["license"] == "Apache-2.0"


def test_the_changelog_has_an_entry_for_the_current_version():
    version = _pyproject()["project"]["version"]
    assert f"## {version}" in (ROOT / "CHANGELOG.md").read_text()
