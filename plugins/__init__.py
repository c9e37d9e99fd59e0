"""Built-in invtoolkit plugins, registered through the distribution's entry points
exactly as a third-party package would register its own."""
