"""gha-fix: repairs GitHub Actions workflows before they fail with 403.

The engine is `gha_fix.codemod` (the `codemod/` folder), the transforms `gha_fix.transforms`
(the `transforms/` folder): setuptools maps both into this one import package.
"""

__version__ = "0.1.0"
