"""The OpenAPI document of the service, as committed at docs/openapi.json.

Regenerate after changing any route or body:  python -m opspoor.api.spec docs/openapi.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from opspoor.api.app import create_app
from opspoor.api.settings import Settings


def openapi() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    text = render(openapi())
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
