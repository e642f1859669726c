"""Every default hyperparameter of training and of the gradient-noise capture, in one place, each
with where it comes from: the paper, or our choice where the paper states none.

Changing a value changes numbers. The recipe enters every configuration id (`Recipe`), a capture
protocol option enters the capture ids when it differs from its default (`CAPTURE_PROTOCOL`), and
the constants below the protocol are fixed parts of a stage: change one only together with the
stage's VERSION (`sgnlib.stages`).
"""
from __future__ import annotations

from dataclasses import dataclass

# paper: every test at the 5 % level (Shapiro-Wilk per dimension, and Benjamini-Hochberg; the
# examples' and tail histograms' Gaussian / non-Gaussian split)
SIGNIFICANCE_LEVEL = 0.05


@dataclass
class Recipe:
    """The paper's training recipe ("Gaussian behavior of AlexNet"): SGD with momentum 0.9, weight
    decay 5e-4, batch 128, learning rate 0.1 -> 0.01 at epoch 150 -> 0.001 at epoch 225 of 300,
    random crop (`AUGMENT_PAD`) + horizontal flip. A shorter run scales the milestones."""
    epochs: int = 300
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: tuple = (150, 225)   # in units of a 300-epoch schedule
    lr_decay: float = 0.1
    augment: bool = True
    normalize: bool = True           # inputs standardized per channel; False: raw [0, 1] pixels
                                     # (the data are loaded so: `load_cifar10(normalize=...)`)

    def scaled_milestones(self) -> list[int]:
        """Milestones scaled to `epochs` (150/300 and 225/300 of the run), at least epoch 1."""
        return [max(1, round(m * self.epochs / 300)) for m in self.milestones]

    def lr_at(self, epoch: int) -> float:
        """Learning rate during (0-based) `epoch`."""
        return self.lr * self.lr_decay ** sum(epoch >= m for m in self.scaled_milestones())


# CIFAR-10's channel means and standard deviations: `Recipe.normalize` standardizes with them
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)

# paper: random crop of 32 from the image padded by 4 black pixels (torchvision's
# RandomCrop(32, padding=4)), used in training and by the capture protocol's augment option
AUGMENT_PAD = 4

# ours (the paper states no capture protocol): the defaults of the protocol study's factors and
# their choices (`sgnlib.capture.minibatch_gradients`; precision: `sgnlib.stages.capture`)
CAPTURE_PROTOCOL = {"sampling": "without_replacement", "augment": False, "bn": "batch",
                    "precision": "float32", "trajectory": False, "inputs": "train"}
PROTOCOL_CHOICES = {"sampling": ("without_replacement", "with_replacement", "independent"),
                    "augment": (False, True), "bn": ("batch", "running"),
                    "precision": ("float32", "float64"), "trajectory": (False, True),
                    "inputs": ("train", "test", "train_common_std")}
# the CIFAR-10 standard deviations many public training scripts use (per-image deviations averaged,
# smaller than the pixel-level STD above); protocol inputs="train_common_std" standardizes the
# training images with them instead of STD (same MEAN), i.e. inputs about 1.2 times larger
STD_COMMON = (0.2023, 0.1994, 0.2010)
# ours: stage `recount` counts a column as a point mass when at least this share of its minibatch
# gradients are one identical value ("almost constant"), besides the exactly constant ones
NEAR_CONSTANT_SHARE = 0.95
# paper (Table 1): batch 128, 200 minibatches: the defaults of `sgnlib.capture.probe`
PROBE_BATCH_SIZE, PROBE_N_BATCHES = 128, 200

# ours, fixed parts of the stages (change only with the stage's VERSION):
CAPTURE_SEED_STRIDE = 1000   # repeat r of training seed s: minibatches drawn with seed 1000 s + r
AUGMENT_SEED_OFFSET = 7919   # the capture's augmentation generator: minibatch seed + 7919
EXAMPLES_PER_KIND = 5        # examples stage: dimensions shown per layer and kind
NULL_D, NULL_SEED = 4000, 0  # tail-index null band: Gaussian columns and their numpy seed
