"""Transactions: a failure puts back every file and directory as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.modelkit.staging import Transaction


def test_a_failure_undoes_every_step(tmp_path: Path) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("old")
    gone = tmp_path / "gone.txt"
    gone.write_text("still here")
    (tmp_path / "old_dir").mkdir()
    with pytest.raises(RuntimeError), Transaction() as tx:
        scratch = tx.scratch(tmp_path)
        staged = scratch / "v1"
        staged.mkdir()
        tx.move_dir(staged, tmp_path / "new_model" / "1")
        tx.write_file(keep, b"new")
        tx.write_file(tmp_path / "created.txt", b"x")
        tx.remove_file(gone)
        tx.remove_dir(tmp_path / "old_dir", scratch)
        raise RuntimeError("late failure")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.txt", "keep.txt", "old_dir"]
    assert keep.read_text() == "old" and gone.read_text() == "still here"


def test_success_keeps_the_changes_and_leaves_no_scratch(tmp_path: Path) -> None:
    with Transaction() as tx:
        scratch = tx.scratch(tmp_path)
        (scratch / "v").mkdir()
        tx.move_dir(scratch / "v", tmp_path / "m" / "1")
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
