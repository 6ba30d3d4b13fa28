"""Griffe extension: module-level functions documented as Python sees them.

Static analysis reads the source, but two kinds of likelihax functions are
finished at import time: the plot renderers fill shared docstring sections
(``likelihax.plots._draw._shared_doc``) and the mixture models receive their
shared keyword options from a decorator that sets ``__signature__``
(``likelihax.models.mixtures._options.mixture_options``). For such functions
this extension takes the docstring and the parameters from the imported
object, so the reference shows what ``help()`` shows.
"""

from __future__ import annotations

import importlib
import inspect

import griffe


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

    def on_function_instance(self, *, node, func, agent, **kwargs) -> None:
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
