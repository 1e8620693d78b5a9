"""`python -m gha_fix`: the `gha-fix` command."""

from gha_fix.codemod.cli import main

main()
