"""One module per ``riskmodel`` subcommand: ``add_parser(subparsers)`` and ``run(args)``."""
