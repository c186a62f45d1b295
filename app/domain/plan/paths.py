"""JSON paths of the plan's problems, as RFC 9535 writes them (its own module: the reader and the
conditions both need it, and the conditions sit under the model the reader imports)."""

from __future__ import annotations

import json


def member(path: str, key: str) -> str:
    """The path of an object's member: `$.nodes` for a name, `$["a.b"]` for any other key (empty, or
    with dots, brackets, spaces), so the path of an unknown key still leads to it (found by the fuzz:
    `{"": 1}` was reported at `$.`)."""
    name = str(key)
    return f"{path}.{name}" if name.isidentifier() else f"{path}[{json.dumps(name)}]"
