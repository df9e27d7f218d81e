"""Thin resolvers: GraphQL input -> service call -> payload, plus the request context."""
