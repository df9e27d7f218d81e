"""Tortoise models: the ERP reference data the Mail tab stands on, and its own records."""

from models.accounts import EmailAccount, ProgramSetting, TestEmailAttempt
from models.firms import Firm, Outlet, OutletKind
from models.notifications import DeliveryPause, Notification, NotificationStatus
from models.oauth import OAuthConnection, OAuthState
from models.tokens import ApiToken, Role

__all__ = [
    "ApiToken",
    "DeliveryPause",
    "EmailAccount",
    "Firm",
    "Notification",
    "NotificationStatus",
    "OAuthConnection",
    "OAuthState",
    "Outlet",
    "OutletKind",
    "ProgramSetting",
    "Role",
    "TestEmailAttempt",
]
