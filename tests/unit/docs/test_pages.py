"""The README is a front door and docs/ holds the reference: every setting is documented with
its environment variable and default, every relative link resolves, every page is linked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices, AliasPath, SecretStr
from pydantic.fields import FieldInfo

try:
    from processor.core.settings import ENV_PREFIX, Settings
except ImportError:  # the move to processor/core/ is in progress
    from processor.settings import ENV_PREFIX, Settings  # type: ignore[no-redef,import-not-found]

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
PAGES = sorted(DOCS.glob("*.md"))
README_MAX_CHARS = 12_000

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def env_names(name: str, field: FieldInfo) -> list[str]:
    """The variables pydantic-settings reads `name` from, first the one it prefers.

    A field with a validation alias (or an alias) is read from the alias alone, without the
    prefix; otherwise from the prefix plus the field name. Unless the settings are case
    sensitive, names match in any case, and the docs write them upper-cased.
    """
    config = Settings.model_config
    alias: Any = field.validation_alias or field.alias
    if alias is None:
        names = [f"{config.get('env_prefix', '')}{name}"]
    elif isinstance(alias, str):
        names = [alias]
    elif isinstance(alias, AliasPath):
        names = [str(alias.path[0])]
    elif isinstance(alias, AliasChoices):
        names = [
            choice if isinstance(choice, str) else str(choice.path[0]) for choice in alias.choices
        ]
    else:  # pragma: no cover - pydantic has no other alias kinds
        raise TypeError(f"unknown alias {alias!r} on {name}")
    if not config.get("case_sensitive", False):
        names = [n.upper() for n in names]
    return names


def documented_default(field: FieldInfo) -> str:
    """The default as the configuration table writes it: unset, or its plain text."""
    default = field.get_default(call_default_factory=True)
    if default is None:
        return "unset"
    if isinstance(default, SecretStr):
        return default.get_secret_value()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def settings_rows() -> dict[str, str]:
    """Variable -> its row, for every row of the configuration page's settings table."""
    rows: dict[str, str] = {}
    for line in CONFIGURATION.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^\|\s*`([A-Z0-9_]+)`\s*\|", line)
        if found:
            rows[found.group(1)] = line
    return rows


def prose(text: str) -> str:
    """Markdown without fenced code blocks and code spans, where links are not links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def relative_links(page: Path) -> list[str]:
    """Every link target of a page that is not a URL or an anchor on the page itself."""
    text = prose(page.read_text(encoding="utf-8"))
    targets = _INLINE_LINK.findall(text) + _REFERENCE_LINK.findall(text)
    return [t for t in targets if not _SCHEME.match(t) and not t.startswith("#")]


def test_settings_read_the_documented_prefix() -> None:
    assert Settings.model_config.get("env_prefix") == ENV_PREFIX == "ARPULSE_"


def test_every_setting_has_a_row_with_its_variable_and_default() -> None:
    rows = settings_rows()
    problems = []
    for name, field in Settings.model_fields.items():
        variable = env_names(name, field)[0]
        row = rows.get(variable)
        if row is None:
            problems.append(f"{variable} ({name}): no row in docs/configuration.md")
            continue
        default = documented_default(field)
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) < 3 or (f"`{default}`" not in cells[1] and cells[1] != default):
            problems.append(f"{variable}: the default column should say {default!r}: {row}")
    assert problems == []


def test_the_settings_table_has_no_row_for_a_setting_that_does_not_exist() -> None:
    known = {env_names(n, f)[0] for n, f in Settings.model_fields.items()}
    assert sorted(set(settings_rows()) - known) == []


def test_env_names_follow_aliases_as_pydantic_settings_does() -> None:
    plain = FieldInfo(annotation=str, default="x")
    aliased = FieldInfo(annotation=str, default="x", validation_alias="OTHER_NAME")
    choices = FieldInfo(
        annotation=str, default="x", validation_alias=AliasChoices("first_name", "second")
    )
    assert env_names("web_port", plain) == [f"{ENV_PREFIX}WEB_PORT"]
    assert env_names("web_port", aliased) == ["OTHER_NAME"]
    assert env_names("web_port", choices) == ["FIRST_NAME", "SECOND"]


def test_link_extraction_finds_links_outside_code_only(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "See [a](a.md#x), [b](../b.md), [web](https://example.org), [here](#top),\n"
        "`[not](code.md)` and\n```\n[not](fenced.md)\n```\n[ref]: c.md\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["a.md#x", "../b.md", "c.md"]


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file_in_the_repository(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path = target.split("#", 1)[0].split("?", 1)[0]
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert broken == []


def test_the_readme_links_every_docs_page() -> None:
    linked = {(README.parent / t.split("#", 1)[0]).resolve() for t in relative_links(README)}
    assert PAGES, "docs/ has no pages"
    assert [p.name for p in PAGES if p.resolve() not in linked] == []


def test_the_readme_stays_a_front_door() -> None:
    size = len(README.read_text(encoding="utf-8"))
    assert size < README_MAX_CHARS, f"README.md has {size} characters; move reference to docs/"
