"""Print the OpenAPI document the app generates (`make openapi` writes it to openapi.json)."""

from __future__ import annotations

import json
import sys

from app.main import create_app


def render() -> str:
    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
