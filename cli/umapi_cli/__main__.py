"""``python -m umapi_cli`` runs the ``umapi`` command."""

import sys

from umapi_cli.main import main

sys.exit(main())
