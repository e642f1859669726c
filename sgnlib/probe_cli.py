"""`sgn-probe`: the gradient noise of any PyTorch model, as one HTML report with CSV tables.

    sgn-probe sgnlib.examples.tiny:make --batch-sizes 8 32 128 --out tiny-report
    sgn-probe mypackage.mymodule:make --device cuda --layers encoder.0 head --out report
    sgn-probe --model alexnet --checkpoint alexnet-seed0-epoch300.pt --n-batches 200

MODULE:FUNCTION names a function (in an importable module, or a path/to/file.py) that returns
(model, loss_fn, images, labels), (model, loss_fn, (images, labels)) or (model, loss_fn, dataset)
(`sgnlib.probe_inputs`); --model names one of the book's networks on CIFAR-10 instead. What is
computed: `sgnlib.probe_report`. Every bad input is one line `error: ...` on stderr with exit
status 2, before any gradient is computed; warnings are one line each, `warning: ...`.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings

from .models import MODELS
from .probe import CaptureArgumentError
from .probe_inputs import ProbeInputError, book_input, user_input
from .probe_report import BATCH_SIZES, report


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are `ProbeInputError`s: one line from `main`, not usage + message."""

    def error(self, message):
        raise ProbeInputError(f"{message}; see sgn-probe --help")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="sgn-probe", description="Is the gradient noise of your model Gaussian? "
                 "Shapiro-Wilk per weight dimension, beta/sigma^3 and tail index per layer, "
                 "written as one HTML report with CSV tables.")
    ap.add_argument("spec", nargs="?", metavar="MODULE:FUNCTION",
                    help="function returning (model, loss_fn, images, labels) or "
                         "(model, loss_fn, dataset)")
    ap.add_argument("--model", choices=MODELS, help="one of the book's networks on CIFAR-10 "
                    "(instead of MODULE:FUNCTION)")
    ap.add_argument("--checkpoint", help="with --model: a checkpoint written by sgnlib.train "
                    "(default: the network at its seeded initialization)")
    ap.add_argument("--subset", type=int, help="with --model: images per class (default all)")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES),
                    metavar="B", help="batch sizes (default %(default)s)")
    ap.add_argument("--n-batches", type=int, default=200,
                    help="minibatches per batch size = samples per Shapiro-Wilk test "
                         "(default %(default)s)")
    ap.add_argument("--layers", nargs="+", help="layer names (default: every weight layer)")
    ap.add_argument("--level", type=float, default=0.05, help="significance level (default "
                    "%(default)s)")
    ap.add_argument("--n-samples", type=int, help="examples for beta/sigma^3 (default "
                    "min(1000, examples); 0 skips it)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the minibatch draws (default 0)")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    ap.add_argument("--out", default="sgn-probe-report", help="output folder (default "
                    "%(default)s)")
    ap.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    return ap


def _one_line_warnings() -> None:
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {str(message).splitlines()[0]}", file=sys.stderr)
    warnings.showwarning = show


def _inputs(a):
    if (a.spec is None) == (a.model is None):
        raise ProbeInputError("name either MODULE:FUNCTION or --model (one of them), e.g. "
                              "sgn-probe sgnlib.examples.tiny:make")
    if a.spec is not None:
        if a.checkpoint or a.subset:
            raise ProbeInputError("--checkpoint and --subset go with --model; your function "
                                  "returns its own weights and data")
        return user_input(a.spec, a.device)
    return book_input(a.model, a.checkpoint, a.device, a.subset)


def summary(gaussianity) -> str:
    """% Gaussian (point masses counted) as a layer x batch size table, as the command prints it."""
    wide = gaussianity.pivot(index="layer", columns="batch_size",
                             values="gauss_pct_incl_degenerate")
    wide = wide.loc[list(dict.fromkeys(gaussianity.layer))]
    return "% Gaussian dimensions (point masses counted) by batch size:\n" + \
        wide.round(1).to_string()


def run(argv=None) -> int:
    """Parse, load, probe, write; raise `CaptureArgumentError` for a bad input."""
    argv = sys.argv[1:] if argv is None else list(argv)
    a = parser().parse_args(argv)
    t0 = time.perf_counter()
    inp = _inputs(a)
    res = report(inp.model, inp.loss_fn, inp.images, inp.labels, a.out, a.batch_sizes,
                 a.n_batches, a.layers, a.level, a.seed, a.n_samples, a.force, not a.quiet,
                 inp.source, inp.data, inp.data_info, shlex.join(["sgn-probe", *argv]))
    print(summary(res.gaussianity))
    print(f"wrote {res.path}/report.html in {time.perf_counter() - t0:.1f} s")
    return 0


def main(argv=None) -> int:
    """The console command: `error: ...` and exit status 2 for a bad input."""
    _one_line_warnings()
    try:
        return run(argv)
    except CaptureArgumentError as e:  # ProbeInputError included
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
