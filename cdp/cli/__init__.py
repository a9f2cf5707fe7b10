"""The command-line door: ``cdp.cli.main`` is the ``cdp`` command; one module per command group,
sharing the options and consoles of ``cdp.cli.options`` and the renderers of ``cdp.cli.render``.
``cdp.cli.main`` registers each group by name and imports its module only when it runs
(``cdp.cli.lazy``)."""
