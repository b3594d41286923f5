"""PumpDx replaces experta's Token.copy (process-wide) with a copy that skips re-validation.
It must stay equivalent to experta's own copy, for PumpDx and for any other experta user
in the same process."""

from __future__ import annotations

from pumpdx.engine import runtime
from pumpdx.engine.compat import experta

Token = experta.matchers.rete.token.Token


def _reference_copy(token: object) -> object:
    """experta 1.9.4's Token.copy: a new validated token with copied data and context."""
    return Token(token.tag, token.data.copy(), token.context.copy())  # type: ignore[attr-defined]


def test_patched_copy_equals_experta_copy() -> None:
    assert Token.copy is runtime._copy_token
    facts = [experta.Fact(a=1), experta.Fact(b=2)]
    for tag in (Token.TagType.VALID, Token.TagType.INVALID):
        token = Token(tag, facts, {"x": 1})
        copied, reference = token.copy(), _reference_copy(token)
        assert copied == reference
        assert type(copied) is type(reference) is Token
        assert copied.data is not token.data and copied.context is not token.context


def test_patched_copy_is_independent_of_the_original() -> None:
    token = Token.valid(experta.Fact(a=1), {"x": 1})
    copied = token.copy()
    copied.data.add(experta.Fact(c=3))
    copied.context["y"] = 2
    assert len(token.data) == 1 and token.context == {"x": 1}
