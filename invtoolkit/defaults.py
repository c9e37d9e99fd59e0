"""The defaults named once: the exact simulator that verifies results and the chain
``invert`` runs when none is given. Core code reads them here, never spells them out."""

DEFAULT_SIMULATOR = "lattice-dft"
DEFAULT_CHAIN = "deconv[n=16] | ga[time=2] | steepest"
