"""OneRoster 1.2 rostering, read only: a school's org, academic sessions, classes,
courses, users and enrollments, as an integration with roster:read reads them over
/ims/oneroster/rostering/v1p2/ (routes/oneroster).

- `sources`: each collection as one SQL selectable with the spec's field names, the
  fields a filter or sort may name, and the sourcedId of a record
- `reads`: `list_records` (filter, sort, limit/offset, total) and `get_record`, asking
  the policy and masking personal fields

A page costs a fixed number of statements (the count, the page, the children of the
school years on it), whatever its limit.
"""
