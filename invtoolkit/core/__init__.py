"""The vocabulary every other package speaks: the grid space and its symmetry, the
pressure schedule, populations, objectives and properties, the problem, the role base
classes a plugin subclasses (pymoo's core: Problem, Termination, Algorithm), the default
names, the one atomic write and progress bars.

May import: ``invtoolkit.errors`` only (and third-party libraries).
"""
