"""Authentication and authorization: permissions, signing keys, tokens, principals, rate limits."""
