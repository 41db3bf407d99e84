"""The package's structure: every module imports on its own, module imports form no cycle,
and user-facing names are declared once, in ``wordspace.names``.

The import graph is read from the source with ``ast``, so a cycle is found whatever order a
test run happens to import modules in. An import of ``wordspace.a.b`` runs the package
``wordspace.a`` first, so it counts as an import of that package too, except from inside it.
Imports inside functions are how cycles are usually hidden: each one must be listed below
with its reason, and the graph must stay acyclic with them counted as well.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(importlib.util.find_spec("wordspace").submodule_search_locations[0]).resolve()
"""The package's folder, found without importing it: the graph tests read the source only,
so that they report a cycle even when it makes the package fail to import."""

FUNCTION_LEVEL_IMPORTS: dict[tuple[str, str], str] = {
    ("wordspace.serve", "wordspace.serve.app"): (
        "FastAPI is an optional extra: `wordspace.serve.create_app` imports the app when asked "
        "for, so that the CLI (which imports wordspace.serve.runner) starts without it"
    ),
}
"""(importing module, imported module) -> why the import must stay inside a function."""

PENDING_DUPLICATES: dict[tuple[str, str], str] = {}
"""Name tuples still declared outside ``wordspace.names``, each with when that ends."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, at_module_level: bool):
    """(module level?, import node) for every import under ``node``; imports guarded by
    ``if TYPE_CHECKING:`` never run and are left out."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield at_module_level, child
        elif isinstance(child, ast.If) and _is_type_checking(child):
            continue
        else:
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            yield from _imports(child, at_module_level and not nested)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if _is_package(module) else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package modules that ``node`` runs when ``module`` executes it."""
    if isinstance(node, ast.Import):
        named = {alias.name for alias in node.names}
    else:
        source = _absolute(module, node)
        submodules = {f"{source}.{alias.name}" for alias in node.names}
        named = {source} | (submodules & MODULES.keys())
    targets = set()
    for name in named:
        if name not in MODULES:
            continue
        targets.add(name)
        parts = name.split(".")
        for end in range(1, len(parts)):
            package = ".".join(parts[:end])
            if not module.startswith(package + "."):
                targets.add(package)
    targets.discard(module)
    return targets


def _graph(with_function_level: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        for module_level, node in _imports(tree, True):
            if module_level or with_function_level:
                graph[module] |= _targets(module, node)
    return graph


def _function_level_imports() -> set[tuple[str, str]]:
    found = set()
    for module, path in MODULES.items():
        for module_level, node in _imports(ast.parse(path.read_text(), str(path)), True):
            if not module_level:
                found |= {(module, target) for target in _targets(module, node)}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph[module]):
            found = visit(target)
            if found:
                return found
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        found = visit(module)
        if found:
            return found
    return None


def test_the_graph_reader_sees_the_imports_the_package_makes():
    graph = _graph(with_function_level=False)
    assert {"wordspace.formats", "wordspace.formats.native"} <= graph["wordspace.outputs"]
    assert "wordspace.formats.fasttext" in graph["wordspace.formats"]
    assert "wordspace.formats" not in graph["wordspace.formats.native"]
    assert "wordspace.names" in graph["wordspace.cli"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_module_level_imports_form_no_cycle():
    cycle = _cycle(_graph(with_function_level=False))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_function_level_imports_hide_no_cycle():
    cycle = _cycle(_graph(with_function_level=True))
    assert cycle is None, "import cycle through a function-level import: " + " -> ".join(
        cycle or []
    )


def test_function_level_imports_are_only_the_listed_ones():
    unlisted = _function_level_imports() - FUNCTION_LEVEL_IMPORTS.keys()
    assert not unlisted, (
        "imports inside functions (move them to the top of the module, or list them in "
        f"FUNCTION_LEVEL_IMPORTS with the reason): {sorted(unlisted)}"
    )


IMPORT_EACH = textwrap.dedent(
    """
    import importlib, os, sys, traceback
    import numba, numpy  # the third-party imports every child shares, loaded once
    failed, running = [], {}
    for name in sys.argv[1:] + [None]:
        while running and (name is None or len(running) >= os.cpu_count()):
            pid, status = os.wait()
            if status:
                failed.append(running[pid])
            del running[pid]
        if name is None:
            break
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        running[pid] = name
    print("failed:", " ".join(sorted(failed)))
    """
)


def test_every_module_imports_first_in_a_fresh_interpreter():
    """Each module is imported first in a process of its own (forked from one that has only
    loaded numpy and numba), so no module works only because another was imported before.
    ``wordspace.__main__`` is left out: importing it runs the command."""
    modules = sorted(MODULES.keys() - {"wordspace.__main__"})
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *modules],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "failed:", result.stdout + result.stderr


def _name_tuples() -> dict[str, tuple[str, ...]]:
    from wordspace import names

    return {
        name: value
        for name, value in vars(names).items()
        if name.isupper() and isinstance(value, tuple)
    }


def test_names_are_tuples_of_distinct_lowercase_strings():
    from wordspace import names

    name_tuples = _name_tuples()
    assert set(name_tuples) >= {
        "ARCHITECTURES",
        "WORD_LOSSES",
        "CLASSIFIER_LOSSES",
        "KERNELS",
        "ANALOGY_METHODS",
        "FORMATS",
    }
    for name, values in name_tuples.items():
        assert values and all(isinstance(v, str) and v == v.lower() for v in values), name
        assert len(set(values)) == len(values), name
    assert "softmax" in names.WORD_LOSSES and "ova" not in names.WORD_LOSSES
    assert set(names.WORD_LOSSES) < set(names.CLASSIFIER_LOSSES)


def _string_collections(tree: ast.AST):
    """(assigned name, set of strings) for each module-level assignment of a tuple, list or
    set literal of strings."""
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
            node.value, ast.Tuple | ast.List | ast.Set
        ):
            items = node.value.elts
            if items and all(
                isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items
            ):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        yield target.id, {i.value for i in items}


def test_user_facing_names_are_declared_only_in_names():
    declared = {frozenset(values) for values in _name_tuples().values()}
    duplicates = set()
    for module, path in MODULES.items():
        if module == "wordspace.names":
            continue
        for target, values in _string_collections(ast.parse(path.read_text())):
            if frozenset(values) in declared:
                duplicates.add((module, target))
    unexpected = duplicates - PENDING_DUPLICATES.keys()
    assert not unexpected, f"declare these in wordspace.names and import them: {unexpected}"


def test_the_formats_package_re_exports_the_format_names():
    from wordspace import formats, names

    assert formats.FORMATS is names.FORMATS
    assert formats.EXPORT_FORMATS == names.FORMATS


def test_the_fasttext_model_lives_in_models_and_the_format_only_reads_and_writes_it():
    from wordspace.formats import fasttext as fasttext_format
    from wordspace.models.fasttext import FastTextModel

    assert FastTextModel.__module__ == "wordspace.models.fasttext"
    tree = ast.parse(MODULES["wordspace.formats.fasttext"].read_text())
    assert not [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert "FastTextModel" not in vars(fasttext_format) or (
        fasttext_format.FastTextModel is FastTextModel
    )


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        ("Architecture", "TRAINING_MODES"),
        ("Loss", "TRAINING_LOSSES"),
        ("Kernel", "KERNELS"),
        ("AnalogyMethod", "ANALOGY_METHODS"),
        ("Format", "FORMATS"),
    ],
)
def test_cli_choices_come_from_names(enum, values):
    from wordspace import cli, names

    assert [member.value for member in getattr(cli, enum)] == list(getattr(names, values))


def test_train_help_offers_every_loss_and_says_what_softmax_costs():
    from wordspace import names

    result = subprocess.run(
        [sys.executable, "-m", "wordspace", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert f"--loss <{'|'.join(names.TRAINING_LOSSES)}>" in text
    assert set(names.WORD_LOSSES) | set(names.CLASSIFIER_LOSSES) == set(names.TRAINING_LOSSES)
    assert "softmax (full softmax) vocabulary size x dim" in text


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _is_inline(function: ast.FunctionDef) -> bool:
    """Whether ``function`` is decorated ``@njit(..., inline="always")``."""
    for decorator in function.decorator_list:
        for keyword in getattr(decorator, "keywords", []):
            if keyword.arg == "inline" and getattr(keyword.value, "value", None) == "always":
                return True
    return False


def _borrowing_problems(function: ast.FunctionDef) -> list[str]:
    """What breaks ``kernels.borrowed``'s rules in one function: a borrowed temporary, a
    borrow inside an inlined function, a borrowed local not kept alive after its last use."""
    problems = []
    where = f"{function.name} (line {function.lineno})"
    statements = list(ast.walk(function))
    borrows = [n for n in statements if _call_name(n) == "borrowed"]
    if borrows and _is_inline(function):
        problems.append(f"{where}: borrows inside an inline function")
    arguments = {a.arg for a in function.args.args}
    kept = {
        (n.args[0].id, n.lineno)
        for n in statements
        if _call_name(n) == "keep_alive" and n.args and isinstance(n.args[0], ast.Name)
    }
    for call in borrows:
        owner = call.args[0] if call.args else None
        if not isinstance(owner, ast.Name):
            problems.append(f"{where}: borrows a temporary (line {call.lineno})")
            continue
        if owner.id in arguments:
            continue  # the caller holds the argument for the whole call
        last_use = max(
            n.lineno
            for n in statements
            if isinstance(n, ast.Name) and n.id == owner.id and not _is_keep_alive_arg(n, kept)
        )
        if not any(name == owner.id and line >= last_use for name, line in kept):
            problems.append(f"{where}: {owner.id} is borrowed but not kept alive to its end")
    return problems


def _is_keep_alive_arg(name: ast.Name, kept: set[tuple[str, int]]) -> bool:
    return (name.id, name.lineno) in kept


def test_every_borrowed_view_has_an_owner_kept_alive_to_its_end():
    # A borrowed view owns nothing: numba frees the owner after its last use, so without a
    # keep_alive after the loops the view would read freed memory, silently.
    problems = []
    for path in sorted((PACKAGE / "kernels").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                problems += [f"{path.name}: {p}" for p in _borrowing_problems(node)]
    assert not problems, "\n".join(problems)


def test_the_borrowing_check_finds_a_missing_keep_alive():
    source = textwrap.dedent(
        """
        @njit(cache=True)
        def kernel(n):
            owned = make(n)
            view = borrowed(owned)
            for i in range(n):
                view[0][i] = i
            total = owned[0].sum()
            return total

        @njit(cache=True, inline="always")
        def inlined(x):
            return borrowed(make(x))
        """
    )
    functions = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)]
    problems = [p for f in functions for p in _borrowing_problems(f)]
    assert any("owned is borrowed but not kept alive" in p for p in problems)
    assert any("inside an inline function" in p for p in problems)
    assert any("a temporary" in p for p in problems)
