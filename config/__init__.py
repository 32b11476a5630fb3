"""Configuration: process settings, the campaign edition as data, and the clock."""

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
from config.settings import Settings

__all__ = [
    "Award",
    "Campaign",
    "CampaignError",
    "Clock",
    "Committee",
    "Dimension",
    "FixedClock",
    "Group",
    "Localized",
    "Phase",
    "ProductCategory",
    "Reminders",
    "Settings",
    "SystemClock",
    "Track",
    "load_campaign",
]
