"""The operation names a metric label may take: those of the committed example operations.

A client chooses its operation names, so a label taken from them unchecked would let one
client create any number of time series. Only the names of `graphql/operations/*.graphql`
(what GraphiQL, the admin page's authors and the CLI's users start from) are kept; every
other name is counted as `other`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse

log = logging.getLogger("confid.telemetry")

OTHER = "other"


def committed_operations(directory: Path) -> frozenset[str]:
    """The names of the operations defined in `directory`'s `.graphql` files."""
    names: set[str] = set()
    for path in sorted(directory.glob("*.graphql")):
        try:
            document = parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, GraphQLSyntaxError) as exc:
            log.warning("operation file %s not read for metric labels: %s", path.name, exc)
            continue
        names.update(
            d.name.value
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and d.name is not None
        )
    return frozenset(names)
