"""Every test is in exactly one suite (unit, integration, browser, faults): by its directory,
or by its own marker outside tests/browser, tests/faults and tests/integration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from tests.fixtures.suites import TESTS, suite_of


@dataclass
class Item:
    """What suite_of reads of a collected test."""

    path: Path
    markers: list[str] = field(default_factory=list)

    @property
    def nodeid(self) -> str:
        return str(self.path.relative_to(TESTS.parent))

    def iter_markers(self) -> Iterator[pytest.Mark]:
        return (getattr(pytest.mark, name).mark for name in self.markers)


def suite(relative: str, *markers: str) -> str:
    return suite_of(cast(pytest.Item, Item(TESTS / relative, list(markers))))


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("browser/test_layout.py", "browser"),
        ("faults/test_redis_outage.py", "faults"),
        ("integration/test_linux_installer.py", "integration"),
        ("ca/test_issuance.py", "unit"),
        ("test_suites.py", "unit"),
    ],
)
def test_a_test_without_a_suite_marker_is_in_its_directorys_suite_or_unit(
    relative: str, expected: str
) -> None:
    assert suite(relative, "django_db") == expected


def test_outside_the_suite_directories_a_test_chooses_its_suite_with_a_marker() -> None:
    assert suite("ca/test_workers.py", "integration", "django_db") == "integration"
    assert suite("portal/test_health.py", "browser") == "browser"


def test_a_marker_that_contradicts_the_directory_stops_the_run() -> None:
    with pytest.raises(pytest.UsageError, match="the directory alone decides"):
        suite("faults/test_redis_outage.py", "integration")


def test_a_test_in_two_suites_stops_the_run() -> None:
    with pytest.raises(pytest.UsageError, match="more than one suite"):
        suite("ca/test_workers.py", "integration", "browser")


def test_every_collected_test_carries_exactly_one_suite_marker(
    request: pytest.FixtureRequest,
) -> None:
    items = request.session.items
    assert items, "collected by this session"
    suites = {"unit", "integration", "browser", "faults"}
    wrong = [
        item.nodeid for item in items if len({m.name for m in item.iter_markers()} & suites) != 1
    ]
    assert wrong == []
