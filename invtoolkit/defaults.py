"""The defaults named once: the exact simulator that verifies results and the chain
``invert`` runs when none is given. Core code reads them here, never spells them out."""

DEFAULT_SIMULATOR = "lattice-dft"
DEFAULT_CHAIN = "bank[n=16] | deconv[n=16] | ga[time=2] | steepest"  # docs/benchmarks.md, structure bank
