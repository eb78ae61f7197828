"""The service's ``grader`` subcommands: ``serve``, ``submit`` and ``keys``."""
