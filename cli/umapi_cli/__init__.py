"""``umapi``: the User Management API from the command line.

    umapi login [--api-url URL] [--client-id ID]    client credentials; the token is cached
    umapi logout                                     forget the cached token

The access token is cached in the user's config directory (``$UMAPI_CONFIG_DIR``, else
``$XDG_CONFIG_HOME/umapi``, else ``~/.config/umapi``) in a file only its owner can read; the
client secret is never stored. ``--json`` prints machine-readable answers on every command.
"""

__version__ = "0.1.0"
