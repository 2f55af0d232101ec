"""The hand-written stubs (sfcrm/_native.pyi) must match the compiled module exactly."""

from __future__ import annotations

import ast
import inspect
import pathlib

import pytest

from sfcrm import _native

STUB = pathlib.Path(_native.__file__).with_name("_native.pyi")
if not STUB.exists():  # editable installs keep the stub in the source tree
    STUB = pathlib.Path(__file__).resolve().parents[1] / "python" / "sfcrm" / "_native.pyi"

# Dunder methods that are part of the public protocol of a class and must be stubbed.
PROTOCOL_DUNDERS = {"__iter__", "__next__", "__enter__", "__exit__", "__new__"}


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def _stub_module_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _stub_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def _stub_members(cls: ast.ClassDef) -> dict[str, ast.AST]:
    out: dict[str, ast.AST] = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def _runtime_module_names() -> set[str]:
    return {n for n in dir(_native) if not n.startswith("__") or n == "__version__"}


def _stub_params(fn: ast.FunctionDef) -> list[tuple[str, str, bool]]:
    """(name, kind, has_default) for each parameter, without self/cls."""
    a = fn.args
    out: list[tuple[str, str, bool]] = []
    positional = a.posonlyargs + a.args
    defaults = [False] * (len(positional) - len(a.defaults)) + [True] * len(a.defaults)
    for p, d in zip(positional, defaults):
        out.append((p.arg, "POSITIONAL_OR_KEYWORD", d))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, "KEYWORD_ONLY", d is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    if out and out[0][0] in ("self", "cls"):
        out = out[1:]
    return out


def _runtime_params(obj: object) -> list[tuple[str, str, bool]] | None:
    if getattr(obj, "__text_signature__", None) is None:
        return None
    sig = inspect.signature(obj)
    out = []
    for p in sig.parameters.values():
        kind = p.kind.name
        if kind == "POSITIONAL_ONLY":
            kind = "POSITIONAL_OR_KEYWORD"
        out.append((p.name, kind, p.default is not inspect.Parameter.empty))
    if out and out[0][0] in ("self", "cls", "$self", "$cls"):
        out = out[1:]
    return out


def test_every_public_name_is_stubbed_and_exists():
    tree = _stub_tree()
    stubbed = _stub_module_names(tree)
    runtime = _runtime_module_names()
    assert runtime - stubbed == set(), "in the module but not in _native.pyi"
    assert stubbed - runtime == set(), "in _native.pyi but not in the module"


def _public_runtime_members(cls: type) -> set[str]:
    names = set()
    for klass in cls.__mro__:
        if klass in (object, BaseException, Exception):
            continue
        for n in vars(klass):
            if n.startswith("__") and n not in PROTOCOL_DUNDERS:
                continue
            names.add(n)
    return names


@pytest.mark.parametrize("name", sorted(n for n in dir(_native) if isinstance(getattr(_native, n), type)))
def test_class_members_match(name: str):
    cls = getattr(_native, name)
    stub = _stub_classes(_stub_tree())[name]
    stub_members = set(_stub_members(stub))
    if issubclass(cls, BaseException):
        # Exception attributes are set per instance (see test_errors); the stubs declare them on
        # SfcrmError only, and subclasses add nothing.
        base_members = set(_stub_members(_stub_classes(_stub_tree())["SfcrmError"]))
        instance = _raise_instance(cls)
        if instance is not None:
            for attr in base_members:
                assert hasattr(instance, attr), f"{name} instance lacks {attr}"
        return
    runtime = _public_runtime_members(cls)
    if "__new__" not in stub_members:
        runtime.discard("__new__")
    assert runtime - stub_members == set(), f"{name}: members missing from the stub"
    assert stub_members - runtime == set(), f"{name}: stubbed members missing at runtime"


def _raise_instance(cls: type) -> BaseException | None:
    for kind, (_code, klass) in _native.ERROR_KINDS.items():
        if klass is cls:
            try:
                _native._raise_core_error(kind, "x", None, None)
            except BaseException as e:  # noqa: BLE001
                return e
    return None


def _signature_pairs():
    tree = _stub_tree()
    classes = _stub_classes(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, getattr(_native, node.name), node
    for cname, cnode in classes.items():
        cls = getattr(_native, cname)
        if issubclass(cls, BaseException):
            continue
        for mname, mnode in _stub_members(cnode).items():
            if not isinstance(mnode, ast.FunctionDef):
                continue
            if mname != "__new__" and not hasattr(cls, mname):
                continue  # reported by test_class_members_match
            if any(isinstance(d, ast.Name) and d.id == "property" for d in mnode.decorator_list):
                assert isinstance(inspect.getattr_static(cls, mname), property) or not callable(
                    inspect.getattr_static(cls, mname)
                ), f"{cname}.{mname} is stubbed as a property but is callable"
                continue
            runtime = cls if mname == "__new__" else inspect.getattr_static(cls, mname)
            if isinstance(runtime, staticmethod):
                runtime = runtime.__func__
            yield f"{cname}.{mname}", runtime, mnode


@pytest.mark.parametrize("qualname,runtime,node", list(_signature_pairs()), ids=lambda v: v if isinstance(v, str) else "")
def test_signatures_match(qualname, runtime, node):
    got = _runtime_params(runtime)
    if got is None:
        pytest.skip(f"{qualname} has no __text_signature__")
    assert got == _stub_params(node), qualname


def test_checked_a_meaningful_number_of_signatures():
    checked = [q for q, r, _ in _signature_pairs() if _runtime_params(r) is not None]
    assert len(checked) >= 30, checked
