"""Doubles at the transport edge: local servers that speak the real protocols over loopback."""

from tests.stubs.bot_api import BotApiStub, Call, Upload

__all__ = ["BotApiStub", "Call", "Upload"]
