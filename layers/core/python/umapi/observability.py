"""Logger, Tracer and Metrics shared by every function (Powertools).

Service name and metrics namespace come from ``POWERTOOLS_*`` variables set in
template.yaml's Globals. Never log events, tokens, passwords or secrets: log ids.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# A request that records no business metric is normal; the warning would only add noise.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(utc=True)
tracer = Tracer()
metrics = Metrics()
