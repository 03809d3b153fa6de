"""Webhooks: a school's receivers of its change feed (services/changes.py).

- `manage`: createWebhook, updateWebhook, deleteWebhook, redeliverWebhook, what a viewer lists
- `urls`: where a webhook may point (http(s), public addresses only: SSRF), checked at
  registration and at every send
- `relay`: committed changes → one delivery per event per webhook, keeping its place
- `sender`: the outbox of deliveries, signed (`signing`), retried with backoff; a webhook
  failing again and again is disabled and the school's admins told
- `runner`: the sender as a process of its own (`ediary-gql webhooks send`)
"""
