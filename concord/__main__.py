"""``python -m concord`` and the ``concord`` console script.

The command line is imported when `main` runs, not when this module is imported: the process
executor's fork server preloads the program's ``__main__`` (for the console script, a file that
imports this module), and racing worker processes must not carry the whole command line.
"""


def main() -> None:
    from concord.cli import main as run

    run()


if __name__ == "__main__":
    main()
