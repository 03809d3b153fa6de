"""Workflows: keyword-only async functions over a session and an actor.

Used alike by GraphQL, the command line, imports and seeding. No Strawberry
or Starlette here.
"""
