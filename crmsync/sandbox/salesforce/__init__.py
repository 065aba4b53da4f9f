"""Salesforce sandbox: a local org speaking the REST API that simple-salesforce and
crmsync's Salesforce connector use."""

from crmsync.sandbox.salesforce.org import OrgSettings
from crmsync.sandbox.salesforce.sandbox import Sandbox

__all__ = ["OrgSettings", "Sandbox"]
