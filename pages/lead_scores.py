"""The Leads & scores page's script, as `streamlit_app.py` registers it; the page itself is the
`pages.leads` package, one module per thing it decides (see `pages/leads/page.py`)."""

from __future__ import annotations

from pages.leads.page import render

if __name__ == "__main__":
    render()
