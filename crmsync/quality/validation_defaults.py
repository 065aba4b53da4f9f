"""The default rule set of each object type.

A field the field table bounds (``minimum``/``maximum``: a deal's probability is a share,
0 to 1) gets its range rule from the table, so the rules cannot allow what the API refuses.
"""

from __future__ import annotations

from typing import Final

from crmsync.fields.table import TABLE, ObjectType
from crmsync.fields.views import ENUM_VALUES
from crmsync.quality.validation import FieldRule, RecordRule, RuleKind, RuleSet, Severity

K = RuleKind
WARN = Severity.WARNING

_PERSON: Final = (
    FieldRule(field="email", rule=K.EMAIL),
    # a bad phone is kept: the e-mail may still reach the person
    FieldRule(field="phone", rule=K.PHONE, severity=WARN),
    FieldRule(field="first_name", rule=K.MAX_LENGTH, max=100),
    FieldRule(field="last_name", rule=K.MAX_LENGTH, max=100),
)


def _bounded(object_type: ObjectType, field: str, severity: Severity = Severity.ERROR) -> FieldRule:
    """The range rule of a field, with the bounds the field table gives it."""
    spec = TABLE[object_type].by_name[field]
    if spec.minimum is None and spec.maximum is None:
        raise ValueError(f"{object_type}.{field}: the field table gives it no bounds")
    return FieldRule(
        field=field, rule=K.RANGE, min=spec.minimum, max=spec.maximum, severity=severity
    )


_EMAIL_OR_PHONE: Final = RecordRule(fields=("email", "phone"))
# enum values come from the field table
_CONTACT_TYPES: Final = ENUM_VALUES[(ObjectType.CONTACTS, "contact_type")]
_LEAD_STATUSES: Final = ENUM_VALUES[(ObjectType.LEADS, "status")]

DEFAULT_RULES: Final[dict[ObjectType, RuleSet]] = {
    ObjectType.CONTACTS: RuleSet(
        fields=(
            *_PERSON,
            FieldRule(field="contact_type", rule=K.ENUM, values=_CONTACT_TYPES, severity=WARN),
            FieldRule(field="engagement_score", rule=K.RANGE, min=0, max=100, severity=WARN),
            FieldRule(field="postal_code", rule=K.MAX_LENGTH, max=20, severity=WARN),
            FieldRule(field="country", rule=K.MAX_LENGTH, max=100, severity=WARN),
        ),
        records=(_EMAIL_OR_PHONE,),
    ),
    ObjectType.LEADS: RuleSet(
        fields=(
            *_PERSON,
            FieldRule(field="status", rule=K.ENUM, values=_LEAD_STATUSES),
            _bounded(ObjectType.LEADS, "budget_min"),
            _bounded(ObjectType.LEADS, "budget_max"),
        ),
        records=(_EMAIL_OR_PHONE,),
    ),
    ObjectType.DEALS: RuleSet(
        fields=(
            FieldRule(field="name", rule=K.REQUIRED),
            FieldRule(field="amount", rule=K.RANGE, min=0),
            _bounded(ObjectType.DEALS, "probability"),
            FieldRule(field="close_date", rule=K.DATE),
            FieldRule(field="currency", rule=K.REGEX, pattern=r"[A-Z]{3}", severity=WARN),
        ),
    ),
    ObjectType.COMPANIES: RuleSet(
        fields=(
            FieldRule(field="name", rule=K.REQUIRED),
            FieldRule(field="domain", rule=K.REGEX, severity=WARN,
                      pattern=r"(?i)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}"),
            FieldRule(field="phone", rule=K.PHONE, severity=WARN),
            _bounded(ObjectType.COMPANIES, "employees", severity=WARN),
        ),
    ),
}  # fmt: skip


def default_rules(object_type: ObjectType | str, region: str = "US") -> RuleSet:
    """The default rule set of ``object_type`` with ``region`` for phone numbers."""
    return DEFAULT_RULES[ObjectType(object_type)].model_copy(update={"region": region})
