"""Local runtime: every route of template.yaml on 127.0.0.1, on moto, without Docker.

Pieces:
    template  reads template.yaml: resources, intrinsic values, event-source mappings
    backend   moto's server in-process, with the template's own tables and queues created in it
    workers   Lambda "containers" as worker processes (one module namespace and environment each)
    apigw     SAM CLI's own local API Gateway (``samcli.local.apigw``), fed by the worker runtime
    pollers   DynamoDB Stream and SQS pollers that invoke stream- and queue-triggered functions
    runtime   wires them together; ``python -m devserver`` runs it
"""

import sys
from pathlib import Path

# The runtime answers its own errors (unknown route, 405) with the layer's request ids,
# as the deployed API's functions do; make the layer importable without PYTHONPATH.
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "core" / "python")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
