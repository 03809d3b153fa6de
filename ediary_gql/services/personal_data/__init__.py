"""A person's own data under 152-FZ: audited reads of identity documents
(sensitive_reads), the export of everything held about them (export), and erasure
decided by an operator (erasure). What is personal is listed in auth/personal_fields."""
