"""``python -m idsvc.cli``: the same as the ``idsvc`` command."""

from idsvc.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
