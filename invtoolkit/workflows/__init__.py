"""Workflows: what a command runs end to end on many inputs: one inversion
(measured or model target, ensemble, report) and batches of them with their summary.

May import every package but ``invtoolkit.commands``.
"""
