"""Datasets: zarr stores of labelled grids, resumable labelling on local worker
pools, the info report.

May import: ``invtoolkit.core``, ``invtoolkit.hooks``, ``invtoolkit.errors``.
"""
