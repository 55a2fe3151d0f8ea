"""Enterprise SSO (docs/api.md §12): organizations' connections to their own OpenID providers."""
