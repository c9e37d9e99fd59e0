"""Old name of :mod:`invtoolkit.registry`, the same module object (removed once every import is moved)."""
import sys; from invtoolkit import registry as _registry; sys.modules[__name__] = _registry  # noqa: E401,E702
