"""Parents' applications (заявки) for access to a child's diary.

A confirmed parent fills in a draft (child data, school and class, scans),
submits it (every field checked, all problems at once; a number and a due date
5 working days ahead), and the school's admin reviews it through the status
machine. Approval makes the child record (or finds it), the guardianship and the
class enrolment in the same transaction. Every transition is kept in the
history, notifies the parent and is published after commit.

- `form`: the form's data and the checks of each field
- `status`: the status machine and the recorded move between statuses
- `drafts`, `submission`, `review`: the workflows, in the order they happen
- `approval`: what approval creates (child, guardianship, enrolment)
- `deadlines`: the school's "today", due dates, overdue applications
- `notices`: notifications to the applicant and the school's admins, reminders
- `queries`: reading one application, the own list, the review queue, loaders
"""
