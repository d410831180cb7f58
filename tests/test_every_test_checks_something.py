"""No test without an assertion: a test that checks nothing passes whatever the code does.

The rule, read from the source (ast) of every ``test_*`` function in tests/**/test_*.py, at
module level or in a ``Test*`` class: its body (nested functions and lambdas included)
contains a *check*, which is one of

- an ``assert`` statement;
- a call of ``pytest.raises``, ``pytest.warns``, ``pytest.deprecated_call`` or ``pytest.fail``
  (``if …: pytest.fail(…)`` is an assertion with its own message);
- a call of schemathesis's ``call_and_validate`` or ``validate_response`` (they raise on a
  response that breaks the OpenAPI document);
- a call of anything whose name starts with ``assert``, ``_assert``, ``django_assert`` or
  ``expect`` (``self.assertEqual``, ``django_assert_num_queries``, a page object's
  ``expect_step``): a helper *method* must say in its name that it checks, since which class
  ``object.method(…)`` belongs to cannot be read from the source;
- a call of a function of the test suite that contains a check itself (followed through any
  depth): a function of the same module, or one imported from ``tests.…`` (also called as
  ``module.function``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CHECKING_PYTEST_CALLS = {"raises", "warns", "deprecated_call", "fail"}
CHECKING_PREFIXES = ("assert", "_assert", "django_assert", "expect")
CHECKING_LIBRARY_CALLS = {"call_and_validate", "validate_response"}

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Suite:
    """The module-level functions and the `from tests… import`s of the suite's modules."""

    functions: dict[tuple[str, str], Function] = field(default_factory=dict)
    # module → local name → (module, name) it was imported as, from tests.*
    imports: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    modules: dict[str, ast.Module] = field(default_factory=dict)
    _checks: dict[int, bool] = field(default_factory=dict)

    def add(self, module: str, source: str) -> None:
        tree = ast.parse(source)
        self.modules[module] = tree
        imported = self.imports.setdefault(module, {})
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions[(module, node.name)] = node
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests"):
                for alias in node.names:
                    imported[alias.asname or alias.name] = (str(node.module), alias.name)

    def checks(self, module: str, function: Function) -> bool:
        key = id(function)
        if key not in self._checks:
            self._checks[key] = False  # a recursive helper is decided by its other calls
            self._checks[key] = any(self._is_check(module, node) for node in ast.walk(function))
        return self._checks[key]

    def _is_check(self, module: str, node: ast.AST) -> bool:
        if isinstance(node, ast.Assert):
            return True
        if not isinstance(node, ast.Call):
            return False
        callee = node.func
        name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
        if name.startswith(CHECKING_PREFIXES) or name in CHECKING_LIBRARY_CALLS:
            return True
        if isinstance(callee, ast.Attribute):
            owner = callee.value
            if isinstance(owner, ast.Name) and owner.id == "pytest":
                return name in CHECKING_PYTEST_CALLS
            if isinstance(owner, ast.Name) and owner.id in self.imports[module]:
                # ``cmd_syntax.check(…)`` after ``from tests.installers import cmd_syntax``
                package, imported = self.imports[module][owner.id]
                target = self.functions.get((f"{package}.{imported}", name))
                if target is not None:
                    return self.checks(f"{package}.{imported}", target)
            return False
        return self._named_function_checks(module, name)

    def _named_function_checks(self, module: str, name: str) -> bool:
        target_module, target_name = self.imports[module].get(name, (module, name))
        target = self.functions.get((target_module, target_name))
        return target is not None and self.checks(target_module, target)

    def tests(self, module: str) -> Iterator[tuple[str, Function]]:
        """Each test of ``module`` with its name as pytest gives it (``Class::test``)."""
        for node in self.modules[module].body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.name.startswith("test"):
                    yield node.name, node
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for member in node.body:
                    if isinstance(
                        member, ast.FunctionDef | ast.AsyncFunctionDef
                    ) and member.name.startswith("test"):
                        yield f"{node.name}::{member.name}", member

    def unchecked(self) -> list[str]:
        """``module::test`` of every test that checks nothing."""
        return [
            f"{module}::{name}"
            for module in sorted(self.modules)
            if module.rsplit(".", 1)[-1].startswith("test_")
            for name, test in self.tests(module)
            if not self.checks(module, test)
        ]


def the_suite() -> Suite:
    suite = Suite()
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS.parent).with_suffix("")
        suite.add(".".join(relative.parts), path.read_text())
    return suite


def suite_of(**modules: str) -> Suite:
    suite = Suite()
    for name, source in modules.items():
        suite.add(name.replace("__", "."), source)
    return suite


def test_every_test_of_the_suite_checks_something() -> None:
    assert the_suite().unchecked() == []


def test_a_test_that_only_calls_the_code_is_reported() -> None:
    suite = suite_of(
        tests__test_x="""
def helper():
    return 1

def test_calls_only():
    helper()

class TestGroup:
    def test_in_a_class(self):
        print("nothing checked")

    def test_calling_a_checking_method_of_unknown_class(self, walker):
        walker.finish()

class Walker:
    def finish(self):
        assert self.done
"""
    )
    assert suite.unchecked() == [
        "tests.test_x::test_calls_only",
        "tests.test_x::TestGroup::test_in_a_class",
        "tests.test_x::TestGroup::test_calling_a_checking_method_of_unknown_class",
    ]


def test_each_kind_of_check_counts() -> None:
    suite = suite_of(
        tests__helpers="""
def verify(value):
    if not value:
        pytest.fail("no value")

def deeper(value):
    verify(value)
""",
        tests__test_x="""
from tests.helpers import deeper
from tests import helpers

def _local(value):
    assert value

class Wizard:
    def expect_step(self, step):
        assert self.step == step

def test_assert():
    assert 1
def test_raises():
    with pytest.raises(ValueError):
        int("x")
def test_expect(page):
    expect(page).to_have_title("x")
def test_schemathesis(case):
    case.call_and_validate()
def test_assert_prefix(django_assert_num_queries):
    with django_assert_num_queries(1):
        pass
def test_local_helper():
    _local(1)
def test_imported_helper_two_deep():
    deeper(1)
def test_module_attribute_helper():
    helpers.verify(1)
def test_a_method_named_as_a_check(wizard):
    wizard.expect_step(2)
def test_lambda_inside():
    run(lambda: _local(1))
""",
    )
    assert suite.unchecked() == []
