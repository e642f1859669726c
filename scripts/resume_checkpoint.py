"""Carry a long training run across machines: its newest resumable checkpoint, kept in git.

Checkpoints live in the ignored `checkpoints/` folder, which a new machine does not have. A training
run too long for one work period keeps ONE file in the tracked `resume/` folder: the run's newest
checkpoint, replaced as the run advances. Before the last epoch it holds the optimizer state, and
`train` continues from it once `restore` has put it back where the run's checkpoints live; the final
one holds the trained weights the run's captures read. `done` deletes it once nothing needs it.

    python scripts/resume_checkpoint.py save checkpoints/<run folder>   # keep its newest checkpoint
    python scripts/resume_checkpoint.py restore                         # put every kept one back
    python scripts/resume_checkpoint.py done <run folder name>          # nothing needs it any more: drop it
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sgnlib.atomic import atomic_copy  # noqa: E402

KEPT = ROOT / "resume"
CHECKPOINTS = ROOT / "checkpoints"


def newest(run: Path) -> Path:
    """The run's checkpoint of the highest epoch (checked to load)."""
    paths = sorted(run.glob("*-epoch*.pt"), key=lambda p: int(p.stem.rsplit("epoch", 1)[1]))
    if not paths:
        raise SystemExit(f"error: {run} holds no checkpoint; nothing to keep")
    torch.load(paths[-1], map_location="cpu", weights_only=True)
    return paths[-1]


def save(run: Path, kept: Path = KEPT) -> Path:
    if not run.is_dir():
        raise SystemExit(f"error: {run} is not a checkpoint folder (checkpoints/<run folder>)")
    src = newest(run)
    dest = atomic_copy(src, kept / run.name / src.name)
    for old in dest.parent.glob("*.pt"):
        if old != dest:
            old.unlink()
    return dest


def restore(kept: Path = KEPT, checkpoints: Path = CHECKPOINTS) -> list[Path]:
    out = []
    for src in sorted(kept.glob("*/*.pt")):
        dest = checkpoints / src.parent.name / src.name
        if not dest.exists():
            atomic_copy(src, dest)
        out.append(dest)
    return out


def done(name: str, kept: Path = KEPT) -> None:
    folder = kept / name
    if not folder.is_dir():
        raise SystemExit(f"error: no kept checkpoint for run {name!r} in {kept}")
    shutil.rmtree(folder)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("save").add_argument("run", type=Path)
    sub.add_parser("restore")
    sub.add_parser("done").add_argument("name")
    a = ap.parse_args(argv)
    if a.command == "save":
        print(f"kept {save(a.run).relative_to(ROOT)}")
    elif a.command == "restore":
        for p in restore():
            print(f"restored {p}")
    else:
        done(a.name)
        print(f"dropped the kept checkpoint of {a.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
