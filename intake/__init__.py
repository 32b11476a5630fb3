"""The intake: forms → validate → complete → render → queue, and the conversation that fills them in."""

from intake.complete import Problem, completeness
from intake.forms import Form, FormError, load_form, load_forms

__all__ = ["Form", "FormError", "Problem", "completeness", "load_form", "load_forms"]
