"""Describe metadata in Salesforce's JSON shapes: the global sObject list, an object's
basic information and its full field-level describe."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crmsync.sandbox.salesforce.schema import Field, SObjectType

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


def _urls(version: str, kind: SObjectType) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{kind.name}"
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
        "layouts": f"{base}/describe/layouts",
        "compactLayouts": f"{base}/describe/compactLayouts",
    }


def object_summary(version: str, kind: SObjectType) -> dict[str, Any]:
    """One entry of the global describe (and the ``objectDescribe`` of basic info)."""
    return {
        "activateable": False,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": True,
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": kind.key_prefix,
        "label": kind.name,
        "labelPlural": kind.label_plural,
        "layoutable": True,
        "mergeable": kind.name in ("Lead", "Contact", "Account"),
        "mruEnabled": True,
        "name": kind.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": _urls(version, kind),
    }


def global_describe(version: str, objects: Iterable[SObjectType]) -> dict[str, Any]:
    """``GET /sobjects``."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(version, k) for k in objects],
    }


def basic_info(version: str, kind: SObjectType) -> dict[str, Any]:
    """``GET /sobjects/{object}``."""
    return {"objectDescribe": object_summary(version, kind), "recentItems": []}


def field_describe(f: Field) -> dict[str, Any]:
    """One entry of ``fields`` in an object describe."""
    text = f.type not in _SOAP_TYPES
    return {
        "name": f.name,
        "label": f.label,
        "type": f.type,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"),
        "length": f.length if text else 0,
        "byteLength": f.length * 3 if text else 0,
        "precision": 18 if f.type in ("double", "currency", "percent") else 0,
        "scale": 2 if f.type in ("currency", "percent") else 0,
        "digits": 9 if f.type == "int" else 0,
        "custom": f.custom,
        "nillable": f.nillable,
        "createable": f.createable,
        "updateable": f.updateable,
        "defaultedOnCreate": f.default is not None
        or f.type == "boolean"
        or f.name
        in (
            "Id",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
            "OwnerId",
            "IsDeleted",
        ),
        "defaultValue": f.default
        if f.default not in (None, "owner")
        else (False if f.type == "boolean" else None),
        "externalId": f.external_id,
        "unique": f.unique,
        "caseSensitive": False,
        "idLookup": f.name == "Id" or f.external_id,
        "filterable": f.filterable,
        "sortable": f.type != "textarea",
        "groupable": f.type not in ("textarea", "datetime", "double", "currency"),
        "referenceTo": list(f.reference_to),
        "relationshipName": f.name[:-2]
        if f.type == "reference" and f.name.endswith("Id") and f.name != "Id"
        else None,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": v == f.default,
                "label": v,
                "validFor": None,
                "value": v,
            }
            for v in f.picklist
        ],
        "calculated": False,
        "autoNumber": False,
        "deprecatedAndHidden": False,
        "htmlFormatted": False,
        "nameField": f.name in ("Name", "Subject"),
        "restrictedPicklist": False,
        "permissionable": f.nillable and not f.name.startswith(("Id", "Is")),
    }


def object_describe(version: str, kind: SObjectType) -> dict[str, Any]:
    """``GET /sobjects/{object}/describe``."""
    return {
        **object_summary(version, kind),
        "fields": [field_describe(f) for f in kind.fields],
        "childRelationships": [],
        "recordTypeInfos": [],
        "supportedScopes": [{"label": "All " + kind.label_plural, "name": "everything"}],
        "actionOverrides": [],
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "sobjectDescribeOption": "FULL",
    }
