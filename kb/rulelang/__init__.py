"""The rule language of PumpDx: one home for what a rule's conditions are and mean.

    tree        the syntax tree (pydantic models): PatternCondition, NotCondition,
                AnyCondition, AllCondition, FieldTest, ParamRef; `$variable`s
    operators   the registry of field-test operators: each operator's meaning on a
                present value, on a missing one, and what the tools need to know of it
    semantics   what a `where:` value means: field_predicate (compiled by the engine and
                asked by lint), missing_passes, pins, named_values, ...
    visitor     walk / patterns (every condition with where it sits) and
                ConditionVisitor (dispatch by kind, for tools that fold a condition)

What each calculation reads and declares is declared with the calculation
(kb/calculations.py, `@calculation(params=..., declares=...)`).

Used by the compiler (engine/compiler.py), the rule checks (kb/rulecheck.py), lint,
the condition evaluator (engine/conditions.py: explain, branch coverage), the rulebook
map and the JSON Schema generator. docs/rule-format.md says how to add an operator.
"""

from .operators import (
    OPERATORS,
    Operator,
    compare,
    extra_operator,
    register_operator,
    same_value,
    unregister_operator,
)
from .semantics import (
    declarable_fact_types,
    field_predicate,
    literal_matches,
    missing_passes,
    named_values,
    only_missing_passes,
    operand_of,
    params_used,
    pins,
    says_what_missing_means,
    uses_negative_test,
    value_passes,
    where_kind,
)
from .tree import (
    VARIABLE,
    AllCondition,
    AnyCondition,
    Condition,
    FieldTest,
    NotCondition,
    Operand,
    ParamRef,
    PatternCondition,
    Scalar,
    field_test_keys,
    is_variable,
    variable_name,
)
from .visitor import ConditionVisitor, Loc, Site, children, path_text, patterns, walk

__all__ = [
    "OPERATORS", "VARIABLE", "AllCondition", "AnyCondition", "Condition",
    "ConditionVisitor", "FieldTest", "Loc", "NotCondition", "Operand", "Operator",
    "ParamRef", "PatternCondition", "Scalar", "Site", "children", "compare",
    "declarable_fact_types", "extra_operator", "field_predicate", "field_test_keys",
    "is_variable", "literal_matches", "missing_passes", "named_values",
    "only_missing_passes", "operand_of", "params_used", "path_text", "patterns", "pins",
    "register_operator", "same_value",
    "says_what_missing_means", "unregister_operator", "uses_negative_test",
    "value_passes", "variable_name", "walk", "where_kind",
]
