"""Readers shared by the transforms: shell scripts, GitHub expressions, workflows."""
