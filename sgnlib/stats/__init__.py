"""Statistics of gradient noise: Shapiro-Wilk, Gaussianity counts, moments, tail indices."""
from .gaussianity import benjamini_hochberg, gaussianity, layer_gaussianity
from .point_mass import mode_share_at_least
from .moments import A0_SHEVTSOVA, StreamingMoments, berry_esseen_bound, mean_of_chunks, moments
from .shapiro import ShapiroResult, coefficients, shapiro_wilk
from .tail_index import (composition_control, default_block_size, fit_alpha_stable, levy_backend,
                         matched_null_alpha,
                         mcculloch_alpha, mohammadi_alpha, mohammadi_alpha_pooled, null_alpha_band)

__all__ = [
    "shapiro_wilk",
    "ShapiroResult",
    "coefficients",
    "gaussianity",
    "layer_gaussianity",
    "benjamini_hochberg",
    "mode_share_at_least",
    "StreamingMoments",
    "mean_of_chunks",
    "moments",
    "berry_esseen_bound",
    "A0_SHEVTSOVA",
    "mohammadi_alpha",
    "mohammadi_alpha_pooled",
    "default_block_size",
    "null_alpha_band",
    "matched_null_alpha",
    "composition_control",
    "mcculloch_alpha",
    "fit_alpha_stable",
    "levy_backend",
]
