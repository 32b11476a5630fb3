"""Preparing and checking editions of the call (the folders config.editions loads): `kcxf edition …`.

prepare  copy last year's folder into next year's, dates moved by a year, what to review listed
check    everything an edition needs before it goes live, and the FAQ answers still quoting the old edition
"""

from editions.check import Finding, check_edition
from editions.prepare import Prepared, prepare_edition

__all__ = ["Finding", "Prepared", "check_edition", "prepare_edition"]
