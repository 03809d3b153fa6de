"""ediary-gql: a GraphQL API for an electronic school diary."""

__version__ = "0.1.0"
