"""The access vocabulary every domain shares: permissions, who is calling (``Principal``), and
the no-escalation rule. It imports no domain; every domain and ``umapi.auth`` import it."""
