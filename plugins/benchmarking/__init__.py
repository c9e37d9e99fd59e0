"""Evaluation of the toolkit itself, outside the core: the ``benchmark`` command.

``invtoolkit benchmark inversion`` (:mod:`.inversion`: every chain on the same held-out
targets at equal time) is added to the CLI through the ``register_commands`` hook,
like any third-party command; this package imports the core only through
:mod:`invtoolkit.plugin`. It is also the one home of the evaluation code the scripts in
``benchmarks/`` and ``training/`` share (they stay there as thin entry points and import
``invtoolkit_plugins.benchmarking...``, with no ``sys.path`` edits):

* :mod:`.targets`: target structures (the chain benchmarks' families, ``large``, the
  four UNSEEN families), seeded;
* :mod:`.runs`: one chain on one target (DFT-verified MAE), the default chain with and
  without structured seeds, :class:`~.runs.Cells` (resumable JSON record of runs);
* :mod:`.families`: a surrogate against lattice-dft on held-out family draws (per family,
  per porosity band, speed), shared by the training evaluations;
* :mod:`.sidebyside`: lattice-DFT kernels of two checkouts side by side in subprocesses.
"""

from invtoolkit.plugin import hookimpl


@hookimpl
def register_commands(cli):
    from invtoolkit_plugins.benchmarking.command import register

    register(cli)
