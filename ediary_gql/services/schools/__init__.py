"""Schools: registration by a confirmed user, verification by an operator, the
test launch and opening to parents, and search.

A registration is a PENDING school plus a PENDING SCHOOL_ADMIN staff binding
of the registrant holding the appointment document, so the document is kept
(and shown to operators) exactly as for any request to act for a school.
Approval activates the school (diary UID issued, test launch), the binding
and the registrant's SCHOOL_ADMIN membership in one transaction; rejection
keeps the reason on both. The registrant is notified either way.

- `registration`: `register_school` and the checks of each field
- `review`: `review_school` (approve or reject), the diary UID, the registrant's notice
- `opening`: `open_school`, the end of the test launch
- `search`: `search_schools` and the relevance of a school to a query
- `status_names`: how statuses and launch modes are named in messages
"""

from ediary_gql.services.schools.opening import open_school
from ediary_gql.services.schools.registration import SchoolRegistration, register_school
from ediary_gql.services.schools.review import Decision, new_diary_uid, review_school
from ediary_gql.services.schools.search import SchoolFilter, relevance_of, search_schools

__all__ = [
    "Decision",
    "SchoolFilter",
    "SchoolRegistration",
    "new_diary_uid",
    "open_school",
    "register_school",
    "relevance_of",
    "review_school",
    "search_schools",
]
