"""GraphQL types (schema.enums, .errors, .firms, .mail, .types) and the root (schema.root)."""
