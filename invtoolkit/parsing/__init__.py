"""Files and units in: isotherm file formats (AIF, pyGAPS), measured isotherms
and their screening, fluids and saturation pressures, target files, grid files.

May import: ``invtoolkit.core``, ``invtoolkit.hooks``, ``invtoolkit.errors``.
"""
