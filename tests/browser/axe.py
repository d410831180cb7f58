"""axe-core in the page: the copy bundled with axe-playwright-python, injected and run by hand."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from playwright.sync_api import Page

# Every rule axe runs by default: WCAG 2.0/2.1/2.2 A and AA, plus its best practices
# (landmarks, headings, regions), which matter to the screen-reader users of a wizard.
AXE_OPTIONS: dict[str, Any] = {"resultTypes": ["violations"]}


@cache
def axe_source() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    violations: list[dict[str, Any]] = page.evaluate(
        "options => axe.run(document, options).then(results => results.violations)", AXE_OPTIONS
    )
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable paragraph per violated rule, with the offending elements."""
    lines = []
    for violation in violations:
        lines.append(
            f"  [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"      at {' '.join(str(t) for t in node['target'])}")
            lines.append(f"         {node['html'][:200]}")
            summary = node.get("failureSummary", "").replace("\n", " ")
            if summary:
                lines.append(f"         {summary[:300]}")
    return "\n".join(lines)


BROKEN_IDREFS_SCRIPT = """() => {
  const broken = [];
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls", "for"]) {
    for (const el of document.querySelectorAll(`[${attr}]`)) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) broken.push(`${el.outerHTML.slice(0, 160)}: ${attr} -> #${id}`);
      }
    }
  }
  return broken;
}"""


def broken_idrefs(page: Page) -> list[str]:
    """References to ids that are not on the page, which axe reports only as "incomplete".

    A hint or error that an input names in aria-describedby but that has another id is never
    read out by a screen reader, though the page looks right.
    """
    broken: list[str] = page.evaluate(BROKEN_IDREFS_SCRIPT)
    return broken
