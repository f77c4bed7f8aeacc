"""Write JSON Schema for every registered event: ``python -m schoolgate_contracts.schemas DIR``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from schoolgate_contracts import registry


def write_schemas(target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in registry.json_schemas():
        path = target / f"{name}.v{schema['x-schema-version']}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "contracts/schemas")
    for path in write_schemas(out):
        print(path)
