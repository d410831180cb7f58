"""The garbage collector and what a process loads at start-up."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Keep the collector away from what was loaded at start-up.

    A web or worker process holds a few hundred thousand objects once Django, the templates
    and (in the worker) pkilint's validators are loaded, and they live as long as the process.
    Each full collection walked all of them with the GIL held: about 90 ms on the project's
    machine, every few seconds under load, added to whichever requests were running. Frozen
    (``gc.freeze``), they are left out; later collections walk only what came after.
    """
    gc.collect()
    gc.freeze()
