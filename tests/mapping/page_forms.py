"""What a browser would post for a Data configuration page as it was rendered."""

from __future__ import annotations

import re


def form_of(response) -> dict:
    """The POST a browser would send for the page as rendered (hidden + visible fields)."""
    html = response.content.decode()
    form = html[
        html.index('id="entity-form"') : html.index("</form>", html.index('id="entity-form"'))
    ]
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or " disabled" in tag:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and " checked" not in tag:
            continue
        data.setdefault(name.group(1), []).append(value.group(1) if value else "on")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        selected = re.findall(r'<option value="([^"]*)"[^>]*selected', body)
        first = re.findall(r'<option value="([^"]*)"', body)
        if selected or first:
            data.setdefault(name, []).append(selected[0] if selected else first[0])
    data.pop("csrfmiddlewaretoken", None)
    return data
