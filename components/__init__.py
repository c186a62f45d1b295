"""Reusable Streamlit pieces that render what they are given."""
