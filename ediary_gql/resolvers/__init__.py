"""Thin resolvers: translate GraphQL input into service calls and back."""
