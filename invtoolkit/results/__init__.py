"""Results: reports of models and measured fits, ensembles of answers, plots
(2-D, 3-D, curves).

May import: ``invtoolkit.core``, ``invtoolkit.errors``.
"""
