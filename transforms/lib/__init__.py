"""Readers shared by the transforms (the shell reader: `shell`)."""
