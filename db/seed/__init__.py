"""Seed data for the database."""
