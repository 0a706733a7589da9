"""``python -m slicesand`` runs the command line."""

from slicesand.cli import main

main()
