"""The Campaigns page's script, as `streamlit_app.py` registers it; the page itself is the
`pages.campaigns` package, one module per thing it decides (see `pages/campaigns/page.py`)."""

from __future__ import annotations

from pages.campaigns.page import render

if __name__ == "__main__":
    render()
