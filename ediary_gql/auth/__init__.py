"""Authentication (passwords, tokens) and the one access policy."""
