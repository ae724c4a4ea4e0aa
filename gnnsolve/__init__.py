"""gnnsolve: learned and exact samplers behind one dimod door."""

from gnnsolve.errors import (
    FileFormatError,
    InvalidModelError,
    MissingDependencyError,
    ModelTooLargeError,
    UnknownSamplerError,
    UnsupportedModelError,
)
from gnnsolve.qubo import CompiledBQM
from gnnsolve.samplers.pignn import GNNSampler

__version__ = "0.1.0"

__all__ = [
    "CompiledBQM",
    "FileFormatError",
    "GNNSampler",
    "InvalidModelError",
    "MissingDependencyError",
    "ModelTooLargeError",
    "UnknownSamplerError",
    "UnsupportedModelError",
    "__version__",
]
