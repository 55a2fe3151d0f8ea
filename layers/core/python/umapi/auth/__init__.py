"""Authentication: bearer tokens become principals; the token endpoint and its grants; the
sign-in flow and its pages; sessions, refresh families and codes; signing keys; rate limits.
(Permissions and the ``Principal`` are ``umapi.access``.)"""
