"""The intake: forms as data, field validation and completeness (the conversation flow builds on these)."""

from intake.complete import Problem, completeness
from intake.forms import Form, FormError, load_form, load_forms

__all__ = ["Form", "FormError", "Problem", "completeness", "load_form", "load_forms"]
