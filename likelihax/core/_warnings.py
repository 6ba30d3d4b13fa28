"""Warning classes raised by likelihax."""

__all__ = [
    "LikelihaxWarning",
    "ConvergenceWarning",
    "InformationWarning",
    "PrecisionWarning",
]


class LikelihaxWarning(UserWarning):
    """Base class of likelihax warnings."""


class ConvergenceWarning(LikelihaxWarning):
    """The optimizer stopped without meeting its stopping rule."""


class InformationWarning(LikelihaxWarning):
    """The information matrix is singular, indefinite or ill-conditioned."""


class PrecisionWarning(LikelihaxWarning):
    """Data reached the fit in lower precision than the working precision."""
