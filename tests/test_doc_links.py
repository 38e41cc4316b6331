"""Every link of the README and the docs pages leads somewhere, and every page can be reached from the README.

A relative link must name a file or folder of the repository; an ``#anchor`` (in the same page or
another) must be the anchor of one of the target's headings, computed as GitHub computes it: the
heading's text as rendered (code spans and links reduced to their text), lowercase, every character
but letters, digits, spaces, ``-`` and ``_`` removed, spaces turned to ``-``, and ``-1``, ``-2``, ...
added to repeated headings. Files outside the pages (stack files, the Makefile, messages and comments
in the code, CHANGELOG.md) that name a page or one of its sections must name one that exists, so a
moved or renamed section cannot leave a pointer behind.

Pure text checks: nothing is rendered, nothing is fetched (links to other sites are not followed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

README = PROJECT_DIR / "README.md"
DOCS = PROJECT_DIR / "docs"
PAGES = sorted(DOCS.glob("*.md"))
MARKDOWN = [README, PROJECT_DIR / "CHANGELOG.md", *PAGES, *sorted((PROJECT_DIR / "examples").rglob("*.md"))]
"""Every markdown file of the repository whose links are checked."""
POINTERS = [
    *sorted(PROJECT_DIR.glob("Pulumi*.yaml")),
    PROJECT_DIR / "Makefile",
    PROJECT_DIR / "CHANGELOG.md",
    PROJECT_DIR / "pyproject.toml",
    PROJECT_DIR / ".ci" / "run",
    *sorted((PROJECT_DIR / ".github").rglob("*.yml")),
    *sorted(
        path
        for folder in ("oidc", "policy", "provider", "bench", "examples")
        for path in (PROJECT_DIR / folder).rglob("*")
        if path.is_file() and path.suffix in {".py", ".yaml", ".json"}
    ),
    PROJECT_DIR / "__main__.py",
]
"""Files that are no docs page but may point into one: they must point at a page and section that exist."""

FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def prose(text: str) -> str:
    """``text`` without its fenced code blocks (their lines left empty, so line numbers hold)."""
    lines, fenced = [], None
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fenced is None and fence:
            fenced = fence.group(1)
            lines.append("")
        elif fenced is not None:
            if line.strip().startswith(fenced):
                fenced = None
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def rendered(heading: str) -> str:
    """A heading's text as GitHub renders it: code spans, links and emphasis reduced to their text."""
    text = CODE_SPAN.sub(lambda match: match.group(2).strip(), heading)
    text = INLINE_LINK.sub(lambda match: match.group(1), text)
    return re.sub(r"(\*{1,2}|(?<!\w)_{1,2}|_{1,2}(?!\w))", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (before a repeated one gets its ``-N``)."""
    text = rendered(heading).strip().lower()
    text = "".join(character for character in text if character.isalnum() or character in " -_")
    return text.replace(" ", "-")


def headings(path: Path) -> list[str]:
    """The text of each heading of a markdown file, in order."""
    found = []
    for line in prose(path.read_text(encoding="utf-8")).splitlines():
        match = HEADING.match(line)
        if match:
            found.append(match.group(2))
    return found


def anchors(path: Path) -> set[str]:
    """Every anchor a link into ``path`` may name: its headings' (repeated ones numbered) and HTML anchors."""
    seen: dict[str, int] = {}
    result = set()
    for heading in headings(path):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    result.update(HTML_ANCHOR.findall(path.read_text(encoding="utf-8")))
    return result


def links(path: Path) -> Iterator[tuple[int, str]]:
    """Each link target of a markdown file outside code, with its line number."""
    text = prose(path.read_text(encoding="utf-8"))
    text = CODE_SPAN.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)
    for pattern in (INLINE_LINK, LINK_DEFINITION):
        for match in pattern.finditer(text):
            target = match.group(match.lastindex or 0)
            yield text.count("\n", 0, match.start()) + 1, target


def problem(source: Path, target: str) -> str | None:
    """Why the link ``target`` in ``source`` leads nowhere, or None when it leads to a file and heading."""
    if SCHEME.match(target) or target.startswith("//"):
        return None
    location, _, anchor = target.partition("#")
    destination = (source.parent / location).resolve() if location else source
    if not destination.is_relative_to(PROJECT_DIR):
        return f"{target}: outside the repository"
    if not destination.exists():
        return f"{target}: no file {destination.relative_to(PROJECT_DIR)}"
    if not anchor:
        return None
    if destination.suffix != ".md":
        return f"{target}: an anchor into {destination.relative_to(PROJECT_DIR)}, which has no headings"
    if anchor not in anchors(destination):
        return f"{target}: {destination.relative_to(PROJECT_DIR)} has no heading with the anchor #{anchor}"
    return None


# --- the anchors themselves are GitHub's ----------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Read this before the first `pulumi up`", "read-this-before-the-first-pulumi-up"),
        ("The whole organization: accounts and roles", "the-whole-organization-accounts-and-roles"),
        ("`deployments[].settings`", "deploymentssettings"),
        ("`error: Pulumi.dev.yaml: ...` from `plan` or `explain`", "error-pulumidevyaml--from-plan-or-explain"),
        ("A stack's previews use that stack's role", "a-stacks-previews-use-that-stacks-role"),
        ("Install it: `pip install`", "install-it-pip-install"),
        ("snake_case and [a link](other.md)", "snake_case-and-a-link"),
    ],
)
def test_anchors_are_computed_as_github_computes_them(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_repeated_heading_gets_a_numbered_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n## Notes\n\n```sh\n# Notes\n```\n\n## Notes\n", encoding="utf-8")

    assert anchors(page) == {"page", "notes", "notes-1"}


def test_a_link_to_a_section_that_no_longer_exists_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.PROJECT_DIR", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "adopting.md").write_text("# Adopting\n\n## The guard\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("See [the guard](docs/adopting.md#the-guard) and `[not](a-link.md)`.\n", encoding="utf-8")

    assert [problem(readme, target) for _, target in links(readme)] == [None]
    assert problem(readme, "#adopting-stacks-that-already-have-settings") == (
        "#adopting-stacks-that-already-have-settings: README.md has no heading with the anchor "
        "#adopting-stacks-that-already-have-settings"
    )
    assert problem(readme, "docs/adopting.md#reading-pulumi-cloud") is not None
    assert problem(readme, "docs/gone.md") == "docs/gone.md: no file docs/gone.md"


# --- the README and the docs pages -----------------------------------------------------------


def test_there_are_docs_pages() -> None:
    assert len(PAGES) >= 5, "the README is the front door; the rest lives in docs/*.md"


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda path: str(path.relative_to(PROJECT_DIR)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = [f"line {line}: {why}" for line, target in links(page) if (why := problem(page, target))]

    assert broken == []


def test_the_readme_links_every_docs_page() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve() for _, target in links(README)}

    assert [str(page.relative_to(PROJECT_DIR)) for page in PAGES if page.resolve() not in linked] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_each_docs_page_starts_with_its_title_and_a_paragraph_of_what_it_is_for(page: Path) -> None:
    blocks = page.read_text(encoding="utf-8").split("\n\n")

    assert blocks[0].startswith("# "), f"{page.name} starts with no title"
    assert "\n" not in blocks[0], f"{page.name}: its title is not followed by a paragraph"
    assert blocks[1][0].isalnum() or blocks[1][0] in "`*", f"{page.name} starts with no paragraph"


# --- pointers from elsewhere -----------------------------------------------------------------

PAGE_MENTION = re.compile(r"(?<![\w/.-])((?:docs/[\w.-]+|README)\.md)(#[\w-]+)?")
SECTION_MENTION = re.compile(r"((?:docs/[\w.-]+\.md|README(?:\.md)?))\W{1,3}\"([^\"]+)\"")
SEE_HEADING = re.compile(r"\(see ([A-Z][^)]*)\)")


def pointers() -> Iterator[tuple[Path, str]]:
    for path in POINTERS:
        if path.exists():
            yield path, path.read_text(encoding="utf-8")


def test_pages_and_sections_named_outside_the_docs_exist() -> None:
    broken = []
    for path, text in pointers():
        where = path.relative_to(PROJECT_DIR)
        for match in PAGE_MENTION.finditer(text):
            why = problem(README, match.group(1) + (match.group(2) or ""))
            if why:
                broken.append(f"{where}: {why}")
        for match in SECTION_MENTION.finditer(text):
            page = PROJECT_DIR / (match.group(1) if match.group(1).endswith(".md") else "README.md")
            if page.exists() and match.group(2) not in headings(page):
                broken.append(f'{where}: {match.group(1)}, "{match.group(2)}": no such heading there')
    assert broken == []


def test_sections_a_message_refers_to_exist() -> None:
    titles = {heading for page in [README, *PAGES] for heading in headings(page)}
    broken = [
        f"{path.relative_to(PROJECT_DIR)}: (see {match.group(1)})"
        for path, text in pointers()
        for match in SEE_HEADING.finditer(text)
        if match.group(1) not in titles
    ]

    assert broken == []
