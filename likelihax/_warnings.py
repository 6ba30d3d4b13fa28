"""Warning classes raised by likelihax."""

__all__ = ["LikelihaxWarning", "ConvergenceWarning", "InformationWarning"]


class LikelihaxWarning(UserWarning):
    """Base class of likelihax warnings."""


class ConvergenceWarning(LikelihaxWarning):
    """The optimizer stopped without meeting its stopping rule."""


class InformationWarning(LikelihaxWarning):
    """The information matrix is singular, indefinite or ill-conditioned."""
