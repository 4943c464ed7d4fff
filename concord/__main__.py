"""``python -m concord`` and the ``concord`` console script.

The command line is imported when `main` runs, not when this module is imported: the process
executor's fork server preloads the program's ``__main__`` (for the console script, a file that
imports this module), and racing worker processes must not carry the whole command line.
"""


def main() -> None:
    import gc

    from concord.cli import main as run

    try:
        run()
    finally:
        # The interpreter's last collection walks every object the command line imported: up to
        # 1.3 s on a loaded machine, which a Ctrl-C waits for. Frozen objects are skipped (0.1 s).
        gc.freeze()


if __name__ == "__main__":
    main()
