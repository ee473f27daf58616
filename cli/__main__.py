"""``python -m ctcdecode_kit.cli`` runs the command line."""

from .app import main

main()
