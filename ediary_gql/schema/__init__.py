"""The GraphQL schema: Strawberry types, inputs, payloads and the root types."""
