"""The defaults named once: the exact simulator that verifies results, the chain
``invert`` runs when none is given, and the grid size when nothing else says. Core code
reads them here, never spells them out."""

DEFAULT_SIMULATOR = "lattice-dft"
DEFAULT_CHAIN = "bank[n=16] | deconv[n=16] | ga[time=2] | steepest"  # docs/benchmarks.md, structure bank
DEFAULT_GRID_SHAPE = (20, 20)  # the grid size of the shipped models and of a search no input sizes
