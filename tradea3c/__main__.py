"""`python -m tradea3c` runs the CLI (same as the `tradea3c` console script)."""

from tradea3c.cli import main

if __name__ == "__main__":
    main()
