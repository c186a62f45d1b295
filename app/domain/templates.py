"""Message templates with `{{variable}}` slots, filled from a lead's facts.

Substitution is strict: a variable with no value is an error, not an empty string, because
"Hi ," in a customer's inbox is worse than a message not sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


class MissingVariable(ValueError):
    pass


def variables(template: str) -> list[str]:
    return sorted(set(VARIABLE.findall(template)))


def render(template: str, values: Mapping[str, object]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or str(value).strip() == "":
            raise MissingVariable(f"template variable {name!r} has no value")
        return str(value)

    return VARIABLE.sub(fill, template)


def generalise(text: str, values: Mapping[str, str]) -> str:
    """Turn a concrete message back into a template by replacing the lead's own values with slots.

    This is what lets our cache serve one model answer to many similar leads.
    """
    for name, value in sorted(values.items(), key=lambda item: -len(item[1] or "")):
        if value and len(value) >= 2:
            text = re.sub(rf"\b{re.escape(value)}\b", "{{" + name + "}}", text)
    return text
