"""The ROI page's script, as `streamlit_app.py` registers it; the page itself is the `pages.roi`
package, one module per section (see `pages/roi/page.py`)."""

from __future__ import annotations

from pages.roi.page import render

if __name__ == "__main__":
    render()
