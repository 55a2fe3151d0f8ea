"""Cold start: a function loads its modules with the garbage collector paused.

Importing the stack (boto3, Powertools, pydantic, our models) allocates hundreds of thousands
of objects, and CPython's collector walks every live one each time its thresholds trip, a
tenth of the import time for nothing: module-level objects live as long as the function. A
handler imports this module first (``# isort: split`` keeps it there) and calls ``finished()``
as its last line: what the imports made is frozen out of future collections (``gc.freeze``, as
for pre-forked servers), and collection resumes for what requests allocate. Measured by
``make bench`` (cold imports).

It also keeps botocore off pyOpenSSL. The layer ships pyOpenSSL for the ``webauthn`` package
(which checks attestation certificates with it, and is imported only when a passkey is used),
and botocore imports ``urllib3.contrib.pyopenssl``, and so all of pyOpenSSL, whenever it is
installed: some 80 ms on every cold start of every function, for an SSL context it then does
not use. Marking that module absent sends botocore to the standard library's context, as in a
runtime without pyOpenSSL.
"""

from __future__ import annotations

import gc
import sys

gc.disable()
sys.modules.setdefault("urllib3.contrib.pyopenssl", None)  # type: ignore[arg-type]


def finished() -> None:
    """The function has loaded: freeze what it holds and collect garbage again from here on."""
    gc.freeze()
    gc.enable()
