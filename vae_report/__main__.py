"""``python -m vae_report``: the console script."""

from .entry import main

if __name__ == "__main__":
    main()
