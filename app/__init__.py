"""The application core: importable without Streamlit or a worker."""
