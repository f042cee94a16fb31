"""System management: models, RBAC, accounts, audit, the outbox and seed data."""
