"""Print the protocol study's tables from a results folder (default data/results/protocol).

    python scripts/protocol_report.py [--scale protocol]
    python scripts/protocol_report.py --readme data/results/protocol/README.md   # rewrite its findings table

Per factor: cells measured, mean Δpp and mean |Δpp| against the baseline, cells moved beyond the
repeats' 95 % interval; per protocol: mean |ours - paper| over Table 1's cells (64-512, 200 batches);
the ResNets by training state.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sgnlib import protocol_findings as pf, protocol_study as ps  # noqa: E402
from sgnlib.reader import read_table  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="protocol")
    ap.add_argument("--readme", type=Path, help="rewrite the findings table between this README's markers")
    a = ap.parse_args(argv)
    g = read_table(a.scale, "gaussianity")
    if g is None:
        print(f"no gaussianity table for scale {a.scale!r}: run python -m sgnlib.sweep --preset protocol",
              file=sys.stderr)
        return 2
    if a.readme:
        a.readme.write_text(pf.with_findings(a.readme.read_text(), g))
        print(f"{a.readme}: findings table rewritten from {g.config_id.nunique()} capture configurations")
        return 0
    print(f"{g.config_id.nunique()} capture configurations committed")
    for model in sorted(set(g.model) & {"alexnet", "alexnet_bn"}):
        try:
            eff = ps.effects(g, model)
        except ValueError as e:
            print(f"{model}: {e}")
            continue
        print(f"\n{model}: effect of each factor on % Gaussian (point masses counted Gaussian), 200 batches")
        print(ps.factor_summary(eff).round(2).to_string(index=False))
        if model == "alexnet":
            print("\ndistance to the paper's Table 1 (mean |ours - paper| over the cells measured)")
            print(ps.distances(g, model).round(2).to_string(index=False))
    rs = ps.resnet_states(g)
    if len(rs):
        print("\nResNets at batch 64 by training state (paper's Table 3 layers at >= 85 %)")
        print(rs.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
