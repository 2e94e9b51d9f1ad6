"""The shipped survey templates' sources are documented in the repository.

`docs/survey-sources.md` has one section per template (its heading names the survey id in
backticks) listing every question id and quoting every item's `source:`; each template's
header comment points at that page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.survey_definitions import load_definition, templates_dir

DOC = Path(__file__).resolve().parents[1] / "docs" / "survey-sources.md"
SHIPPED = ["monthly-pulse", "pilot-check-in", "quarterly-governance"]


def _flat(text: str) -> str:
    """Whitespace collapsed, so a quote may wrap across lines in the Markdown."""
    return " ".join(text.split())


def _section(doc: str, survey_id: str) -> str:
    """The doc's `## ... (`survey_id`)` section, up to the next `## ` heading."""
    lines = doc.splitlines()
    starts = [
        i for i, line in enumerate(lines) if line.startswith("## ") and f"`{survey_id}`" in line
    ]
    assert len(starts) == 1, f"docs/survey-sources.md needs one section for `{survey_id}`"
    start = starts[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


def _header_comment(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    header: list[str] = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    return "\n".join(header)


def test_every_shipped_template_is_covered() -> None:
    assert sorted(p.stem for p in templates_dir().glob("*.yaml")) == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_doc_lists_every_question_and_quotes_its_source(name: str) -> None:
    assert DOC.is_file()
    definition = load_definition(templates_dir() / f"{name}.yaml")
    section = _section(DOC.read_text(encoding="utf-8"), definition.id)
    flat = _flat(section)
    for question in definition.questions:
        assert f"`{question.id}`" in section, question.id
        assert question.source, f"{name}: {question.id} has no source"
        assert _flat(question.source) in flat, question.id


@pytest.mark.parametrize("name", SHIPPED)
def test_template_header_points_at_the_doc(name: str) -> None:
    path = templates_dir() / f"{name}.yaml"
    header = _header_comment(path)
    assert "docs/survey-sources.md" in header
    assert "SURVEY_FACTS" not in path.read_text(encoding="utf-8")
