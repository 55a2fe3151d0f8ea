"""Cold start: a function loads its modules with the garbage collector paused.

Importing the stack (boto3, Powertools, pydantic, our models) allocates hundreds of thousands
of objects, and CPython's collector walks every live one each time its thresholds trip, a
tenth of the import time for nothing: module-level objects live as long as the function. A
handler imports this module first (``# isort: split`` keeps it there) and calls ``finished()``
as its last line: what the imports made is frozen out of future collections (``gc.freeze``, as
for pre-forked servers), and collection resumes for what requests allocate. Measured by
``make bench`` (cold imports).
"""

from __future__ import annotations

import gc

gc.disable()


def finished() -> None:
    """The function has loaded: freeze what it holds and collect garbage again from here on."""
    gc.freeze()
    gc.enable()
