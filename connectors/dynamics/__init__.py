"""Microsoft Dynamics 365 / Dataverse connector: Web API v9.2 with MSAL client credentials."""

from __future__ import annotations

from .client import DynamicsClient
from .records import (
    BatchResult,
    ChangeBatch,
    ChangeMode,
    Deletion,
    FallbackReason,
    LookupValue,
    OrgInfo,
    Outcome,
    RecordWrite,
    Row,
    SystemUser,
    TableInfo,
    TableSchema,
    WhoAmI,
    WriteKind,
)

__all__ = [
    "BatchResult",
    "ChangeBatch",
    "ChangeMode",
    "Deletion",
    "DynamicsClient",
    "FallbackReason",
    "LookupValue",
    "OrgInfo",
    "Outcome",
    "RecordWrite",
    "Row",
    "SystemUser",
    "TableInfo",
    "TableSchema",
    "WhoAmI",
    "WriteKind",
]
