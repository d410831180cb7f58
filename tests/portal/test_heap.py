"""What a process loads at start-up is kept out of the garbage collector's way."""

import gc

import pytest

from core.heap import freeze_startup_objects


@pytest.fixture
def unfrozen_afterwards() -> object:
    yield
    gc.unfreeze()


def test_freezing_leaves_the_startup_objects_out_of_later_collections(
    unfrozen_afterwards: object,
) -> None:
    gc.unfreeze()
    loaded = [object() for _ in range(1000)]
    freeze_startup_objects()
    assert gc.get_freeze_count() >= len(loaded)
    # A full collection now walks only what came after.
    tracked_after = len(gc.get_objects())
    assert tracked_after < gc.get_freeze_count()
