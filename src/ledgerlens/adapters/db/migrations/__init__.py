"""Alembic migration scripts, shipped inside the package so a wheel install can migrate."""
