"""Parsing linear hypotheses written as text (``"x1 = x2, 2*x3 - x1 = 1"``)
into a restriction matrix ``R`` and right-hand side ``q`` over the labels."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

__all__ = ["parse_hypothesis"]

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

_IDENT = re.compile(r"[A-Za-z_][\w.]*(?:\[[^\]]*\])?")


def _tokenize(text: str, labels: list[str]) -> list[tuple[str, Any]]:
    """Tokens ``("label", str)``, ``("num", float)`` and ``("op", ch)``; labels win."""
    by_length = sorted(labels, key=len, reverse=True)
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        hit = next(
            (
                lab
                for lab in by_length
                if text.startswith(lab, i)
                and not (i + len(lab) < len(text) and _continues(text[i + len(lab)]))
            ),
            None,
        )
        if hit is not None:
            out.append(("label", hit))
            i += len(hit)
            continue
        m = _NUMBER.match(text, i)
        if m:
            out.append(("num", float(m.group())))
            i = m.end()
            continue
        if text.startswith("==", i):
            out.append(("op", "="))
            i += 2
            continue
        if c in "+-*/()=,;":
            out.append(("op", c))
            i += 1
            continue
        word = _IDENT.match(text, i)
        what = repr(word.group()) if word else repr(text[i:])
        raise ValueError(
            f"{what} is not a parameter label (in the hypothesis {text!r}); labels "
            f"are {labels}."
        )
    return out


def _continues(ch: str) -> bool:
    return ch.isalnum() or ch in "_.["


class _Linear:
    """A linear form ``sum coef[label] * label + const``."""

    def __init__(self, coef=None, const=0.0):
        self.coef = dict(coef or {})
        self.const = float(const)

    def scale(self, a: float) -> _Linear:
        return _Linear({k: a * v for k, v in self.coef.items()}, a * self.const)

    def add(self, other: _Linear, sign: float = 1.0) -> _Linear:
        coef = dict(self.coef)
        for k, v in other.coef.items():
            coef[k] = coef.get(k, 0.0) + sign * v
        return _Linear(coef, self.const + sign * other.const)

    @property
    def is_const(self) -> bool:
        return all(v == 0 for v in self.coef.values())


class _Parser:
    """Recursive descent over ``expr = term (('+'|'-') term)*`` and so on."""

    def __init__(self, tokens, text):
        self.toks, self.pos, self.text = tokens, 0, text

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else ("end", None)

    def take(self):
        tok = self.peek()
        self.pos += 1
        return tok

    def fail(self, why: str):
        raise ValueError(f"Cannot parse the hypothesis {self.text!r}: {why}.")

    def expr(self) -> _Linear:
        out = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            sign = 1.0 if self.take()[1] == "+" else -1.0
            out = out.add(self.term(), sign)
        return out

    def term(self) -> _Linear:
        out = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            rhs = self.unary()
            if op == "/":
                if not rhs.is_const or rhs.const == 0:
                    self.fail("division only by a non-zero number")
                out = out.scale(1.0 / rhs.const)
            elif rhs.is_const:
                out = out.scale(rhs.const)
            elif out.is_const:
                out = rhs.scale(out.const)
            else:
                self.fail(
                    "a product of parameters is not linear; give a function "
                    "hypothesis (wald_test(fit, lambda p: ...)) for nonlinear ones"
                )
        return out

    def unary(self) -> _Linear:
        if self.peek() in (("op", "-"), ("op", "+")):
            sign = -1.0 if self.take()[1] == "-" else 1.0
            return self.unary().scale(sign)
        kind, value = self.take()
        if kind == "num":
            return _Linear(const=value)
        if kind == "label":
            return _Linear({value: 1.0})
        if (kind, value) == ("op", "("):
            out = self.expr()
            if self.take() != ("op", ")"):
                self.fail("missing ')'")
            return out
        self.fail(f"expected a number, a label or '(' but found {value or 'the end'!r}")
        raise AssertionError  # unreachable


def parse_hypothesis(text: str, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(R, q)`` of linear restrictions ``R theta = q`` written with ``labels``.

    Restrictions are separated by commas or semicolons; a side without ``=``
    means ``= 0``; ``a = b = c`` is two restrictions.
    """
    tokens = _tokenize(text, labels)
    groups: list[list] = [[]]
    for tok in tokens:
        if tok in (("op", ","), ("op", ";")):
            groups.append([])
        else:
            groups[-1].append(tok)
    rows, q = [], []
    index = {lab: j for j, lab in enumerate(labels)}
    for toks in groups:
        if not toks:
            raise ValueError(
                f"Cannot parse the hypothesis {text!r}: empty restriction."
            )
        p = _Parser(toks, text)
        sides = [p.expr()]
        while p.peek() == ("op", "="):
            p.take()
            sides.append(p.expr())
        if p.peek()[0] != "end":
            p.fail(f"unexpected {p.peek()[1]!r}")
        if len(sides) == 1:
            sides.append(_Linear())
        for lhs, rhs in itertools.pairwise(sides):
            d = lhs.add(rhs, -1.0)
            if d.is_const:
                p.fail("a restriction names no parameter (or its terms cancel)")
            row = np.zeros(len(labels))
            for lab, v in d.coef.items():
                row[index[lab]] += v
            rows.append(row)
            q.append(-d.const)
    return np.array(rows), np.array(q)


# --------------------------------------------------------------------------------------
# Wald test
# --------------------------------------------------------------------------------------
