"""`python -m bot` is the `kcxf` command (used where the console script is not on PATH)."""

from bot.cli import main

main()
