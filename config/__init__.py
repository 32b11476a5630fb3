"""Configuration: process settings, the editions of the campaign as data, and the clock."""

from config.campaign import (
    Award,
    Campaign,
    CampaignError,
    Committee,
    Dimension,
    Group,
    Localized,
    Phase,
    ProductCategory,
    Reminders,
    Track,
    load_campaign,
)
from config.clock import Clock, FixedClock, SystemClock
from config.editions import Edition, EditionError, Editions, live_edition, load_editions
from config.settings import Settings

__all__ = [
    "Award",
    "Campaign",
    "CampaignError",
    "Clock",
    "Committee",
    "Dimension",
    "Edition",
    "EditionError",
    "Editions",
    "FixedClock",
    "Group",
    "Localized",
    "Phase",
    "ProductCategory",
    "Reminders",
    "Settings",
    "SystemClock",
    "Track",
    "live_edition",
    "load_campaign",
    "load_editions",
]
