"""One module per console page, each with a `render()`."""
