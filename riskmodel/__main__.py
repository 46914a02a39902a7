"""``python -m riskmodel`` runs the command line."""

from riskmodel.cli import main

raise SystemExit(main())
