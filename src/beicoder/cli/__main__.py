"""``python -m beicoder.cli``: the same as the ``beicoder`` command."""

from . import main

main()
