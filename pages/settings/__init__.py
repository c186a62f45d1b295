"""Sections of the Settings page kept in modules of their own (`pages/tenant_settings.py` is the page)."""
