"""Domain services: validation, firms and outlets, the Mail tab, tokens."""
