"""The comments of a block mapping entry (codemod/splice.py), which travel with it."""

from __future__ import annotations

from gha_fix.codemod.document import Document
from gha_fix.codemod.splice import EntryComments, comment_paragraph_above, entry_comments

TEXT = """\
# header of the file
permissions:
  contents: read
  # to write the comment
  #   (a second line)
  pull-requests: write  # the status comment
# commented-out: issues: write
  actions: read
jobs:  # the jobs

  # what the build does
  build:
    env:
      A: |  # a literal
        # text, not a comment
      # about B
      B: {x: 1}  # flow
"""


def test_entry_comments() -> None:
    doc = Document.from_text("w.yml", TEXT)
    assert entry_comments(doc, ("permissions", "pull-requests")) == EntryComments(
        ("# to write the comment", "#   (a second line)"), "# the status comment")
    assert entry_comments(doc, ("permissions", "pull-requests")).inline_text == (
        "the status comment")
    # a comment less indented than the key is not the key's
    assert entry_comments(doc, ("permissions", "actions")) == EntryComments()
    assert entry_comments(doc, ("jobs",)).inline == "# the jobs"
    assert entry_comments(doc, ("jobs", "build")).above == ("# what the build does",)
    assert entry_comments(doc, ("jobs", "build", "env", "A")).inline == "# a literal"
    # a block scalar's text is not a comment above the next key
    assert entry_comments(doc, ("jobs", "build", "env", "B")) == EntryComments(
        ("# about B",), "# flow")
    assert entry_comments(doc, ("permissions", "contents")) == EntryComments()
    assert entry_comments(doc, ("nothing", "here")) == EntryComments()


def test_a_paragraph_above_needs_a_blank_line_before_it() -> None:
    doc = Document.from_text("w.yml", TEXT)
    assert comment_paragraph_above(doc, ("jobs", "build")) == ("# what the build does",)
    assert comment_paragraph_above(doc, ("permissions",)) == ()  # the file's header
    assert comment_paragraph_above(doc, ("permissions", "pull-requests")) == ()
