"""Symbolic tensor dimensions.

A dimension is either a plain ``int`` or a :class:`Sym`: a polynomial with integer
coefficients over named atoms (``N``, ``L``, ``H`` ...). Shape rules are written once with
ordinary Python arithmetic (``(h + 2 * p - k) // s + 1``) and work on both: constant results
collapse back to ``int``, so a fully concrete network never sees a ``Sym``.

Division that does not come out exact (``(L - 1) // 2``) becomes an opaque atom whose name is
the expression itself, so it still prints readably and compares equal to the same expression
computed along another path.
"""

from __future__ import annotations

from collections.abc import Iterable

Monomial = tuple[str, ...]  # sorted atom names; () is the constant term
Terms = tuple[tuple[Monomial, int], ...]


class Sym:
    """An immutable integer polynomial over named atoms; never a bare constant."""

    __slots__ = ("terms", "_hash")

    def __init__(self, terms: Terms):
        self.terms = terms
        self._hash = hash(terms)

    @staticmethod
    def named(name: str) -> Sym:
        return Sym((((name,), 1),))

    # -- construction -------------------------------------------------------------------
    @staticmethod
    def _from_dict(poly: dict[Monomial, int]) -> Dim:
        terms = tuple(sorted((m, c) for m, c in poly.items() if c != 0))
        if not terms:
            return 0
        if len(terms) == 1 and terms[0][0] == ():
            return terms[0][1]
        return Sym(terms)

    def _as_dict(self) -> dict[Monomial, int]:
        return dict(self.terms)

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, other: Dim) -> Dim:
        poly = self._as_dict()
        for mono, coeff in _terms_of(other):
            poly[mono] = poly.get(mono, 0) + coeff
        return Sym._from_dict(poly)

    __radd__ = __add__

    def __neg__(self) -> Dim:
        return Sym._from_dict({m: -c for m, c in self.terms})

    def __sub__(self, other: Dim) -> Dim:
        return self + (-other)

    def __rsub__(self, other: Dim) -> Dim:
        return (-self) + other

    def __mul__(self, other: Dim) -> Dim:
        poly: dict[Monomial, int] = {}
        for m1, c1 in self.terms:
            for m2, c2 in _terms_of(other):
                mono = tuple(sorted(m1 + m2))
                poly[mono] = poly.get(mono, 0) + c1 * c2
        return Sym._from_dict(poly)

    __rmul__ = __mul__

    def __floordiv__(self, other: Dim) -> Dim:
        if isinstance(other, int):
            if other == 1:
                return self
            if all(c % other == 0 for _, c in self.terms):
                return Sym._from_dict({m: c // other for m, c in self.terms})
            return Sym.named(f"{_wrap(self)}//{other}")
        quotient = exact_div(self, other)
        if quotient is not None:
            return quotient
        return Sym.named(f"{_wrap(self)}//{_wrap(other)}")

    def __rfloordiv__(self, other: int) -> Dim:
        return Sym.named(f"{other}//{_wrap(self)}")

    # -- comparison ---------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sym) and self.terms == other.terms

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Sym({str(self)!r})"

    def __str__(self) -> str:
        parts: list[str] = []
        # Highest-degree terms first, the constant last: "2*H*W + 1".
        ordered = sorted(self.terms, key=lambda t: (-len(t[0]), t[0]))
        for mono, coeff in ordered:
            # An opaque atom such as (L - 1)//2 reads as one factor only when it stands alone:
            # 2*(L - 1)//2 or a leading -(L - 1)//2 would bind the other way round.
            alone = len(mono) == 1 and (coeff == 1 or (coeff == -1 and parts))
            body = "*".join(atom if alone or _is_atomic(atom) else f"({atom})" for atom in mono)
            if not body:
                text = str(abs(coeff))
            elif abs(coeff) == 1:
                text = body
            else:
                text = f"{abs(coeff)}*{body}"
            if not parts:
                parts.append(text if coeff > 0 else f"-{text}")
            else:
                parts.append(f"+ {text}" if coeff > 0 else f"- {text}")
        return " ".join(parts)

    @property
    def atoms(self) -> set[str]:
        return {a for mono, _ in self.terms for a in mono}

    def substitute(self, values: dict[str, int]) -> Dim:
        """Replace named atoms by integers (opaque atoms stay symbolic)."""
        total: Dim = 0
        for mono, coeff in self.terms:
            term: Dim = coeff
            for atom in mono:
                term = term * (values[atom] if atom in values else Sym.named(atom))
            total = total + term
        return total


Dim = int | Sym
Shape = tuple[Dim, ...]


def _terms_of(value: Dim) -> Terms:
    if isinstance(value, Sym):
        return value.terms
    return (((), value),)


def _is_atomic(text: str) -> bool:
    """A name, or one call such as ``ceil(L/2)`` whose parentheses close at the very end."""
    if text.isidentifier():
        return True
    head, paren, _ = text.partition("(")
    if not (paren and head.isidentifier() and text.endswith(")")):
        return False
    depth = 0
    for index, char in enumerate(text[len(head):], start=len(head)):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return index == len(text) - 1
    return False


def _wrap(value: Dim) -> str:
    text = str(value)
    if isinstance(value, Sym) and (len(value.terms) > 1 or value.terms[0][1] != 1):
        return f"({text})"
    return text


def exact_div(numerator: Dim, denominator: Dim) -> Dim | None:
    """``numerator / denominator`` when it divides exactly, else ``None``.

    Handles what reshape with ``-1`` needs: dividing a polynomial by a constant or by a
    single monomial (``N*C*L / (N*C) = L``).
    """
    if isinstance(denominator, int):
        if denominator == 0:
            return None
        if isinstance(numerator, int):
            return numerator // denominator if numerator % denominator == 0 else None
        if all(c % denominator == 0 for _, c in numerator.terms):
            return Sym._from_dict({m: c // denominator for m, c in numerator.terms})
        return None
    if len(denominator.terms) != 1:
        return numerator if numerator == denominator else None
    (den_mono, den_coeff), = denominator.terms
    poly: dict[Monomial, int] = {}
    for mono, coeff in _terms_of(numerator):
        remaining = list(mono)
        for atom in den_mono:
            if atom not in remaining:
                return None
            remaining.remove(atom)
        if coeff % den_coeff:
            return None
        poly[tuple(remaining)] = coeff // den_coeff
    return Sym._from_dict(poly)


def ceil_div(numerator: Dim, denominator: int) -> Dim:
    if isinstance(numerator, int):
        return -(-numerator // denominator)
    if exact_div(numerator, denominator) is not None:
        return numerator // denominator
    return Sym.named(f"ceil({_wrap(numerator)}/{denominator})")


def product(dims: Iterable[Dim]) -> Dim:
    total: Dim = 1
    for d in dims:
        total = total * d
    return total


def is_known_int(value: Dim) -> bool:
    return isinstance(value, int)


def parse_dim(value: object) -> Dim:
    """A dimension as written in a project file: an int or a symbol name like ``"N"``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a dimension")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"dimension {value} is negative")
        return value
    if isinstance(value, str) and value.isidentifier():
        return Sym.named(value)
    raise ValueError(f"{value!r} is not a dimension (an integer or a name such as 'N')")


def format_dim(value: Dim) -> str:
    return _wrap(value) if isinstance(value, Sym) else str(value)


def format_shape(shape: Shape | None) -> str:
    """``(N, 64, 56, 56)``, the form used in messages and generated comments."""
    if shape is None:
        return "(?)"
    inner = ", ".join(format_dim(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def format_shape_compact(shape: Shape | None) -> str:
    """``N×64×56×56``, the form drawn on canvas edges."""
    if shape is None:
        return "?"
    if not shape:
        return "scalar"
    return "×".join(format_dim(d) for d in shape)


def dim_to_json(value: Dim) -> int | str:
    return value if isinstance(value, int) else str(value)
