"""Built-in optimizer plugins, one module each, all written on the public search
toolkit (:mod:`invtoolkit.search`) exactly as a third-party optimizer would be."""
