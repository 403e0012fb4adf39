"""Accelerator type constants for the `accelerator_type=` option of tasks and actors.

`@ray.remote(num_gpus=1, accelerator_type=NVIDIA_TESLA_V100)` runs only on a node that offers
the resource `accelerator_type:V100`.
"""

from __future__ import annotations

import warnings
from typing import Any

from ray.util.accelerators import accelerators as _accelerators
from ray.util.accelerators.accelerators import (  # noqa: F401 - re-exported
    AMD_INSTINCT_MI100,
    AMD_INSTINCT_MI210,
    AMD_INSTINCT_MI250,
    AMD_INSTINCT_MI300A,
    AMD_RADEON_HD_7900,
    AMD_RADEON_R9_200_HD_7900,
    AWS_NEURON_CORE,
    GOOGLE_TPU_V2,
    GOOGLE_TPU_V3,
    GOOGLE_TPU_V4,
    GOOGLE_TPU_V5LITEPOD,
    GOOGLE_TPU_V5P,
    GOOGLE_TPU_V6E,
    HUAWEI_NPU_910B,
    HUAWEI_NPU_910B4,
    INTEL_GAUDI,
    INTEL_MAX_1100,
    INTEL_MAX_1550,
    NVIDIA_A100,
    NVIDIA_A100_40G,
    NVIDIA_A100_80G,
    NVIDIA_B200,
    NVIDIA_H20,
    NVIDIA_H100,
    NVIDIA_H200,
    NVIDIA_L4,
    NVIDIA_L40S,
    NVIDIA_TESLA_A10G,
    NVIDIA_TESLA_K80,
    NVIDIA_TESLA_P4,
    NVIDIA_TESLA_P100,
    NVIDIA_TESLA_T4,
    NVIDIA_TESLA_V100,
    AMD_INSTINCT_MI250x,
    AMD_INSTINCT_MI300x,
    AMD_INSTINCT_MI300x_HF,
    AMD_INSTINCT_MI308x,
    AMD_INSTINCT_MI325x,
)

__all__ = [
    "NVIDIA_TESLA_V100",
    "NVIDIA_TESLA_P100",
    "NVIDIA_TESLA_T4",
    "NVIDIA_TESLA_P4",
    "NVIDIA_TESLA_K80",
    "NVIDIA_TESLA_A10G",
    "NVIDIA_L4",
    "NVIDIA_L40S",
    "NVIDIA_A100",
    "NVIDIA_H100",
    "NVIDIA_H200",
    "NVIDIA_H20",
    "NVIDIA_B200",
    "INTEL_MAX_1550",
    "INTEL_MAX_1100",
    "INTEL_GAUDI",
    "AMD_INSTINCT_MI100",
    "AMD_INSTINCT_MI250x",
    "AMD_INSTINCT_MI250",
    "AMD_INSTINCT_MI210",
    "AMD_INSTINCT_MI300A",
    "AMD_INSTINCT_MI300x",
    "AMD_INSTINCT_MI300x_HF",
    "AMD_INSTINCT_MI308x",
    "AMD_INSTINCT_MI325x",
    "AMD_RADEON_R9_200_HD_7900",
    "AMD_RADEON_HD_7900",
    "AWS_NEURON_CORE",
    "GOOGLE_TPU_V2",
    "GOOGLE_TPU_V3",
    "GOOGLE_TPU_V4",
    "GOOGLE_TPU_V5P",
    "GOOGLE_TPU_V5LITEPOD",
    "GOOGLE_TPU_V6E",
    "HUAWEI_NPU_910B",
    "HUAWEI_NPU_910B4",
    "NVIDIA_A100_40G",
    "NVIDIA_A100_80G",
    "NVIDIA_TESLA_A100",  # noqa: F822 - deprecated, served by __getattr__
]


def __getattr__(name: str) -> Any:
    if name == "NVIDIA_TESLA_A100":
        warnings.warn(
            "NVIDIA_TESLA_A100 is deprecated, use NVIDIA_A100 instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return _accelerators.NVIDIA_A100
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
