"""Multi-factor authentication (docs/api.md §11): TOTP with recovery codes, and passkeys."""
