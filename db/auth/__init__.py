"""Accounts, roles, passwords and masking of personal data."""
