"""The diary graph's types described over SQL, one module per type beside its GraphQL type.

Each module gives a function of a row's alias returning the type's `SqlObject`
(db/json_shapes.py): per GraphQL field, the SQL expression of its value as the
response carries it. A field described nowhere is completed the ordinary way
(schema/execution.py): fields whose value the policy decides at run time (masked
contacts, documents, rosters) are left out on purpose. The reads' row filters are
the services' (services/diary_document.py); these describe only the fields.
"""
