"""vae/inputs.py: every non-number is rejected with a message naming the input; numbers are clamped."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vae import inputs
from vae.inputs import SPACINGS, InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value", [None, "", "abc", "1,5", [1.0], {"z": 1}, object(), True, False, np.bool_(True)])
def test_non_numbers_are_rejected_naming_the_input(value):
    with pytest.raises(InputError, match=r"^z1 must be a number, not "):
        inputs.check_z(value, "z1")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), "nan", "inf", np.float32("nan")])
def test_nan_and_infinity_are_rejected(value):
    with pytest.raises(InputError, match=r"^K must be a finite number"):
        inputs.check_K(value)


def test_numbers_in_range_pass_through_with_their_type():
    assert inputs.check_z(1.25) == 1.25 and isinstance(inputs.check_z(np.float32(1.5)), float)
    assert inputs.check_z(" -2.5 ", "z2") == -2.5
    assert inputs.check_span(6) == 6.0
    assert inputs.check_grid_n(15) == 15 and isinstance(inputs.check_grid_n(15.0), int)
    assert inputs.check_samples_n(np.int64(36)) == 36
    assert inputs.check_steps("10") == 10
    assert inputs.check_L(10) == 10
    assert inputs.check_K(1000) == 1000
    assert inputs.check_seed(2**32 - 1) == 2**32 - 1


@pytest.mark.parametrize("check, low, high, lo, hi", [
    (inputs.check_z, -1e9, 1e9, -inputs.Z_LIMIT, inputs.Z_LIMIT),
    (inputs.check_span, -5, 1e9, inputs.SPAN_MIN, inputs.SPAN_MAX),
    (inputs.check_grid_n, -3, 10**6, 1, inputs.GRID_N_MAX),
    (inputs.check_samples_n, 0, 10**6, 1, inputs.SAMPLES_N_MAX),
    (inputs.check_steps, 0, 10**6, inputs.STEPS_MIN, inputs.STEPS_MAX),
    (inputs.check_L, 0, 10**9, 1, inputs.L_MAX),
    (inputs.check_K, -1, 10**400, 1, inputs.K_MAX),
    (inputs.check_seed, -10**400, 2**70, 0, inputs.SEED_MAX),
])
def test_out_of_range_numbers_are_clamped_to_the_documented_range(check, low, high, lo, hi):
    assert check(low) == lo
    assert check(high) == hi


def loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh Python has imported after running `statement`."""
    code = f"import sys; {statement}; print(','.join(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return [m for m in out.stdout.strip().split(",") if m]


def test_checking_a_number_loads_neither_torch_nor_pil():
    """The checks are plain Python: a tool that validates input need not pay for the model's libraries."""
    assert loaded_after("import vae.inputs", ("torch", "PIL", "numpy")) == []


@pytest.mark.slow  # seconds: a fresh Python importing torch and all of vae/
def test_the_library_never_loads_gradio():
    """vae/ is usable without the app: none of its modules pulls in Gradio."""
    modules = "anatomy, data, draw, evaluate, fit_encoder, inputs, latent, likelihood, model, preprocess, train"
    assert loaded_after(f"from vae import {modules}", ("gradio",)) == []


@pytest.mark.parametrize("value", [2.5, "7.1", 1e-3])
def test_counts_must_be_whole_numbers(value):
    with pytest.raises(InputError, match=r"^grid size must be a whole number"):
        inputs.check_grid_n(value)


def test_spacing_accepts_the_latent_module_names_only():
    for name in SPACINGS:
        assert inputs.check_spacing(f"  {name.upper()} ") == name
    for value in ["log", "", None, 1, "linear; rm -rf /"]:
        with pytest.raises(InputError, match="^spacing must be one of " + re.escape(", ".join(SPACINGS)) + ", not "):
            inputs.check_spacing(value)


def test_messages_do_not_echo_huge_payloads():
    with pytest.raises(InputError) as e:
        inputs.check_seed("x" * 100_000)
    assert len(str(e.value)) < 100
