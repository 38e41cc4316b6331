"""Names a Python source reaches through attributes, for the tests that check which names ``oidc`` uses."""

from __future__ import annotations

import ast
from collections.abc import Iterator


def attribute_chains(tree: ast.AST) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each whole attribute chain of ``tree`` that starts at a name: ``aws.iam.Role`` gives ``("aws", ("iam",
    "Role"))``, and not its parts ``aws.iam`` again."""
    attributes = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute)]
    inner = {id(node.value) for node in attributes}
    for node in attributes:
        if id(node) in inner:
            continue  # a part of a longer chain, which is given whole
        chain: list[str] = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if isinstance(value, ast.Name):
            yield value.id, tuple(chain)
