"""Small shared utilities (tutorial support, seeding, timing)."""
