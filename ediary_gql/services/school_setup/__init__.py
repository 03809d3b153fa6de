"""School setup by the school's admin: academic years with periods and holidays,
subjects, control types, classes, teacher invitations and assignments,
enrolling children and moving them between classes.

Every function asks the policy first, collects every input problem at once
(each with its field path) and never commits: the caller's transaction does.

- `checks`: what every step begins with (the policy, the class, text fields)
- `academic_years`, `subjects`, `classes`, `teachers`: the school's structure
- `children`: a child's data checked and made canonical (also for roster imports)
- `enrolment`: enrolling a child in a class and moving them to another
"""
