"""contactflow: atomistic simulation of contact interfaces in swelling battery anodes.

Data flows one way: recipes -> structures -> flows -> dispatch -> store -> continuum.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("contactflow")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
