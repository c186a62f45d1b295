"""Pure rules: plain functions and dataclasses, no I/O, no frameworks."""
