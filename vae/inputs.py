"""Validation of every number and choice the app accepts, in one place for the UI and the API.

One rule for all of them:
  - something that is not a number (None, text that does not parse, True/False, NaN,
    infinity) is rejected with an InputError that says which input and why;
  - a count (grid size, samples, L, K, steps, seed) must be a whole number (5 and 5.0 are fine,
    5.5 is not);
  - a finite number outside its range is clamped to the nearest end of the range, so a
    value typed past a slider's end acts like the slider's end.
Numbers may also arrive as numeric strings (" 2.5"), as API clients sometimes send them.
"""
import math
import numbers
import sys

Z_LIMIT = 6.0  # latent coordinates are clamped to [-Z_LIMIT, Z_LIMIT]; the prior puts ~1e-9 mass beyond 6
SPAN_MIN, SPAN_MAX = 0.1, 2 * Z_LIMIT  # width of the manifold grid, first to last column
GRID_N_MAX = 30  # the manifold grid is n x n digits, 1 <= n <= GRID_N_MAX
SAMPLES_N_MAX = 100  # prior samples shown at once
STEPS_MIN, STEPS_MAX = 2, 30  # interpolation steps, both ends included
L_MAX = 1000  # Monte Carlo samples for the ELBO's reconstruction term
K_MAX = 5000  # importance samples for the IWAE bound
EPS_LIMIT = 3.0  # the reparameterization trick's eps, per coordinate, as the Story's sliders give it
SEED_MAX = 2**32 - 1  # what numpy and torch both accept
SPACINGS = ("linear", "cdf")  # manifold grid spacing: even in z, or even in the prior's CDF (vae.latent.grid_axis)


class InputError(ValueError):
    """An input value we cannot use; the message is meant for the user."""


def check_float(value: object, name: str, lo: float, hi: float) -> float:
    """`value` as a float clamped to [lo, hi]; InputError if it is not a finite number."""
    return min(max(_number(value, name), lo), hi)


def check_int(value: object, name: str, lo: int, hi: int) -> int:
    """`value` as an int clamped to [lo, hi]; InputError if it is not a whole, finite number."""
    number = _number(value, name)
    if number != math.floor(number):
        raise InputError(f"{name} must be a whole number, not {number}.")
    return int(min(max(number, lo), hi))


def check_z(value: object, name: str = "z") -> float:
    """A latent coordinate, clamped to [-Z_LIMIT, Z_LIMIT]."""
    return check_float(value, name, -Z_LIMIT, Z_LIMIT)


def check_span(value: object, name: str = "span") -> float:
    """Width of the manifold grid (first to last column), clamped to [SPAN_MIN, SPAN_MAX]."""
    return check_float(value, name, SPAN_MIN, SPAN_MAX)


def check_grid_n(value: object, name: str = "grid size") -> int:
    """Digits per side of the manifold grid, clamped to [1, GRID_N_MAX]."""
    return check_int(value, name, 1, GRID_N_MAX)


def check_samples_n(value: object, name: str = "number of samples") -> int:
    """How many prior samples to draw, clamped to [1, SAMPLES_N_MAX]."""
    return check_int(value, name, 1, SAMPLES_N_MAX)


def check_steps(value: object, name: str = "steps") -> int:
    """Interpolation steps including both ends, clamped to [STEPS_MIN, STEPS_MAX]."""
    return check_int(value, name, STEPS_MIN, STEPS_MAX)


def check_L(value: object, name: str = "L") -> int:
    """Monte Carlo samples for the reconstruction term, clamped to [1, L_MAX]."""
    return check_int(value, name, 1, L_MAX)


def check_K(value: object, name: str = "K") -> int:
    """Importance samples for the IWAE bound, clamped to [1, K_MAX]."""
    return check_int(value, name, 1, K_MAX)


def check_seed(value: object, name: str = "seed") -> int:
    """A random seed, clamped to [0, SEED_MAX]."""
    return check_int(value, name, 0, SEED_MAX)


def check_spacing(value: object, name: str = "spacing") -> str:
    """One of SPACINGS (case and surrounding spaces ignored); anything else is rejected."""
    if isinstance(value, str) and value.strip().lower() in SPACINGS:
        return value.strip().lower()
    raise InputError(f"{name} must be one of {', '.join(SPACINGS)}, not {_show(value)}.")


def _number(value: object, name: str) -> float:
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise InputError(f"{name} must be a number, not {_show(value)}.") from None
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float: still just "too large", so clamp it
            number = sys.float_info.max if value > 0 else -sys.float_info.max
    else:
        raise InputError(f"{name} must be a number, not {_show(value)}.")
    if not math.isfinite(number):
        raise InputError(f"{name} must be a finite number, not {number}.")
    return number


def _show(value: object) -> str:
    """A short repr for messages, so a huge payload is not echoed back whole."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
