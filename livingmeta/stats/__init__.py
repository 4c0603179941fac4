"""Statistics engine: effect sizes, meta-analysis, subgroups and sensitivity analyses at metafor parity.

Importing this package loads numpy only; scipy.special is imported on first use (p-values,
quantiles) and scipy.stats / pandas never are, so per-job imports stay light.

Reference implementation: R metafor 3.8-1; see validation/metafor/ for the script that produced the
recorded reference values and tests/stats/ for the comparisons.
"""

from .effects import (combine_arms, escalc, mean_sd_from_median, sd_from_ci, sd_from_se,
                      split_shared_control)
from .binary import escalc_2x2
from .measures import MEASURES, back_transform, generic_effect
from .mh import rma_mh, rma_peto
from .multilevel import (MultilevelResult, nested_levels, rma_mv, shared_control_covariance, shared_control_V,
                         split_shared_controls, vcalc_shared_group)
from .rma import RmaResult, rma, rma_batch
from .robust import robust_cr2
from .sensitivity import cumulative, influence, leave_one_out
from .smallstudy import funnel_data, kendall_test, ranktest, regtest, trimfill
from .subgroups import subgroup_analysis

__all__ = [
    "escalc", "escalc_2x2", "rma_mh", "rma_peto", "MEASURES", "back_transform", "generic_effect", "rma", "rma_batch", "RmaResult", "subgroup_analysis", "leave_one_out", "cumulative",
    "influence", "regtest", "ranktest", "trimfill", "funnel_data", "kendall_test",
    "sd_from_se", "sd_from_ci", "mean_sd_from_median", "combine_arms", "split_shared_control",
    "rma_mv", "MultilevelResult", "nested_levels", "vcalc_shared_group", "shared_control_covariance", "robust_cr2",
    "shared_control_V", "split_shared_controls",
]
