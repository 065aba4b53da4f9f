"""Typed models, one module per aggregate. Importing this package registers them all."""

from crmsync.store.models.alerts import Alert, AlertStatus
from crmsync.store.models.app_webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from crmsync.store.models.attribution import Campaign, CampaignLink, Touchpoint
from crmsync.store.models.automation import (
    AutomationCursor,
    AutomationRule,
    AutomationRuleVersion,
    AutomationRun,
    AutomationRunStatus,
)
from crmsync.store.models.bus import BusSource, BusSourceStatus, OutboundEvent
from crmsync.store.models.changelog import ChangeLog
from crmsync.store.models.events import Event
from crmsync.store.models.health import ApiQuota, ObjectSyncStatus, SyncObjectState
from crmsync.store.models.imports import ImportBatch, ImportJob, ImportRow, ImportStatus
from crmsync.store.models.integrations import (
    Integration,
    IntegrationMapping,
    IntegrationStatus,
    Link,
    SyncCursor,
)
from crmsync.store.models.marketing import (
    EngagementState,
    Enrollment,
    EnrollmentStatus,
    Journey,
    MarketingSettings,
    RuleFiring,
    TriggerRule,
)
from crmsync.store.models.merges import MergedRecord
from crmsync.store.models.oauth import OAuthState
from crmsync.store.models.owners import CrmOwner, OwnerListing
from crmsync.store.models.records import (
    RECORD_MODELS,
    Activity,
    Company,
    Contact,
    Deal,
    Lead,
    Note,
    Property,
    RecordBase,
    Ticket,
)
from crmsync.store.models.references import PendingReference
from crmsync.store.models.reviews import DuplicateReview, ReviewStatus
from crmsync.store.models.sync import (
    Conflict,
    ConflictStatus,
    FieldState,
    SyncJob,
    SyncJobStatus,
    SyncRun,
    SyncRunStatus,
    WebhookEvent,
)
from crmsync.store.models.users import SignInFailure, User, UserInvitation, WebSession
from crmsync.store.models.workspace import ApiKey, Workspace

__all__ = [
    "RECORD_MODELS",
    "Activity",
    "Alert",
    "AlertStatus",
    "ApiKey",
    "ApiQuota",
    "AutomationCursor",
    "AutomationRule",
    "AutomationRuleVersion",
    "AutomationRun",
    "AutomationRunStatus",
    "BusSource",
    "BusSourceStatus",
    "Campaign",
    "CampaignLink",
    "ChangeLog",
    "Company",
    "Conflict",
    "ConflictStatus",
    "Contact",
    "CrmOwner",
    "Deal",
    "DeliveryStatus",
    "DuplicateReview",
    "EngagementState",
    "Enrollment",
    "EnrollmentStatus",
    "Event",
    "FieldState",
    "ImportBatch",
    "ImportJob",
    "ImportRow",
    "ImportStatus",
    "Integration",
    "IntegrationMapping",
    "IntegrationStatus",
    "Journey",
    "Lead",
    "Link",
    "MarketingSettings",
    "MergedRecord",
    "Note",
    "OAuthState",
    "ObjectSyncStatus",
    "OutboundEvent",
    "OwnerListing",
    "PendingReference",
    "Property",
    "RecordBase",
    "ReviewStatus",
    "RuleFiring",
    "SignInFailure",
    "SyncCursor",
    "SyncJob",
    "SyncJobStatus",
    "SyncObjectState",
    "SyncRun",
    "SyncRunStatus",
    "Ticket",
    "Touchpoint",
    "TriggerRule",
    "User",
    "UserInvitation",
    "WebSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workspace",
]
