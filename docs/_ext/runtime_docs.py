"""Griffe extension: docstrings rendered as Python and the reader see them.

Static analysis reads the source, but two kinds of likelihax functions are
finished at import time: the plot renderers fill shared docstring sections
(``likelihax.plots._draw._shared_doc``) and the mixture models receive their
shared keyword options from a decorator that sets ``__signature__``
(``likelihax.models.mixtures._options.mixture_options``). For such functions
this extension takes the docstring and the parameters from the imported
object, so the reference shows what ``help()`` shows.

The docstrings are written for ``help()`` and Sphinx-style readers: roles
such as ``:func:`~likelihax.fit``` become inline code (``fit``) and
``:math:`x``` becomes inline math, which the site renders with MathJax.
"""

from __future__ import annotations

import importlib
import inspect
import re

import griffe


_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj|ref):`~?([^`]+)`")
_TILDE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):`~([^`]+)`")
_MATH = re.compile(r":math:`([^`]+)`")


def _plain(text: str) -> str:
    """Sphinx roles as Markdown: inline code and inline math."""
    text = _TILDE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return _MATH.sub(lambda m: f"\\({m.group(1)}\\)", text)


def _rewrite(obj) -> None:
    doc = obj.docstring
    if doc is not None and ":" in doc.value:
        doc.value = _plain(doc.value)


def _runtime_object(func: griffe.Function):
    if not func.parent or not func.parent.is_module:
        return None
    try:
        module = importlib.import_module(func.parent.path)
    except ImportError:
        return None
    return getattr(module, func.name, None)


def _expr(value) -> str | None:
    return None if value is inspect.Parameter.empty else repr(value)


def _annotation(value) -> str | None:
    if value is inspect.Parameter.empty:
        return None
    return value if isinstance(value, str) else getattr(value, "__name__", str(value))


class RuntimeDocs(griffe.Extension):
    """Use the runtime docstring and signature where import time changed them."""

    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        _rewrite(obj)

    def on_function_instance(self, *, node, func, agent, **kwargs) -> None:
        self._use_runtime(func)
        _rewrite(func)

    def _use_runtime(self, func) -> None:
        obj = _runtime_object(func)
        if obj is None or not callable(obj):
            return
        doc = inspect.getdoc(obj)
        if func.docstring is not None and doc and doc != func.docstring.value:
            func.docstring = griffe.Docstring(
                doc,
                lineno=func.docstring.lineno,
                endlineno=func.docstring.endlineno,
                parent=func,
                parser=func.docstring.parser,
                parser_options=func.docstring.parser_options,
            )
        if "__signature__" in getattr(obj, "__dict__", {}):
            params = griffe.Parameters()
            for p in inspect.signature(obj).parameters.values():
                params.add(
                    griffe.Parameter(
                        p.name,
                        kind=griffe.ParameterKind(p.kind.description),
                        default=_expr(p.default),
                        annotation=_annotation(p.annotation),
                    )
                )
            func.parameters = params
