"""The component package schema other Pulumi languages generate their SDKs from.

`python -m edgeport.schema` prints it; provider/schema.json is the checked-in copy
(a test keeps the two equal, so a component change shows up in review).
"""

from __future__ import annotations

import json


def schema() -> dict:
    from pulumi.provider.experimental.component import ComponentProvider

    from . import __version__
    from .components import COMPONENTS

    return json.loads(ComponentProvider(COMPONENTS, "edgeport", version=__version__).schema)


if __name__ == "__main__":
    print(json.dumps(schema(), indent=2, sort_keys=True))
