"""Learning: training loops and checkpoints, model files, generator training,
active learning and acquisition, loading surrogates and targets, generation.

May import: ``invtoolkit.core``, ``invtoolkit.hooks``, ``invtoolkit.datasets``,
``invtoolkit.parsing``, ``invtoolkit.errors``.
"""
