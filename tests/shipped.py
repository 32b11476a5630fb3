"""The edition the repository ships, as tests read it (its facts — seven awards, the 2024 deadline — are what many
tests check)."""

from __future__ import annotations

import functools

from config.campaign import Campaign
from config.editions import Edition, load_editions
from config.settings import Settings
from intake.forms import Form, load_forms

SHIPPED_YEAR = 2024


@functools.cache
def shipped_edition() -> Edition:
    """The shipped 2024 edition from the repository's editions folder."""
    return load_editions(Settings(_env_file=None).editions_dir).get(SHIPPED_YEAR)  # type: ignore[call-arg]


def shipped_campaign() -> Campaign:
    return shipped_edition().campaign


@functools.cache
def shipped_forms() -> dict[str, Form]:
    edition = shipped_edition()
    return load_forms(edition.campaign, directory=edition.forms_dir)


def shipped_faq_count() -> int:
    """How many entries the shipped FAQ holds (what the console lists before any edit)."""
    from knowledge.faq import load_faq

    return len(load_faq(shipped_edition().faq_file))
