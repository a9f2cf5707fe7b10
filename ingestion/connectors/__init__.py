"""Built-in connectors, one module per tool; registered as ``cdp.connectors`` entry points."""
