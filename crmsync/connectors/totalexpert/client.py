"""Total Expert v1 endpoints on the shared HTTP layer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.connectors.http import ConnectorHttp

__all__ = ["PAGE", "TotalExpertClient"]

PAGE = 100


def _filter(values: Mapping[str, str]) -> str:
    # filter=name=value,name2=value2 (a comma inside a value would split it)
    return ",".join(f"{k}={v.replace(',', ' ')}" for k, v in values.items())


class TotalExpertClient:
    """Thin calls returning Total Expert's JSON."""

    def __init__(self, http: ConnectorHttp, page_size: int = PAGE):
        self.http = http
        self.page_size = page_size

    def contacts(
        self, filters: Mapping[str, str], sort: str, page: int, size: int | None = None
    ) -> tuple[list[Mapping[str, Any]], int | None]:
        """One page of contacts and the next page number, if any."""
        params = {
            "page[number]": str(page),
            "page[size]": str(size or self.page_size),
            "sort": sort,
        }
        if filters:
            params["filter"] = _filter(filters)
        body = self.http.get("/v1/contacts", params=params).json()
        following = (body.get("links") or {}).get("next")
        return list(body.get("items") or []), int(following) if following else None

    def contact(self, remote_id: str) -> Mapping[str, Any]:
        """One contact."""
        return dict(self.http.get(f"/v1/contacts/{remote_id}").json())

    def create_contact(self, body: Mapping[str, Any]) -> tuple[bool, str]:
        """POST a contact: (created, id); ``created`` is false for a ``duplicate`` answer,
        in which case Total Expert updated the existing contact with the body."""
        answer = self.http.post("/v1/contacts", json=dict(body)).json()
        return "duplicate" not in answer, str(answer["id"])

    def patch_contact(self, remote_id: str, body: Mapping[str, Any]) -> None:
        """Change one contact."""
        self.http.patch(f"/v1/contacts/{remote_id}", json=dict(body), idempotent=True)

    def create_note(self, body: Mapping[str, Any]) -> str:
        """A contact note; its id."""
        return str(self.http.post("/v1/contact-notes", json=dict(body)).json()["id"])

    def every(self, path: str, params: Mapping[str, str] | None = None) -> list[Mapping[str, Any]]:
        """Every item of a list endpoint, page after page."""
        found: list[Mapping[str, Any]] = []
        page: int | None = 1
        while page is not None:
            query = {**(params or {}), "page[number]": str(page), "page[size]": str(PAGE)}
            body = self.http.get(path, params=query).json()
            found += list(body.get("items") or [])
            following = (body.get("links") or {}).get("next")
            page = int(following) if following else None
        return found

    def contact_custom_fields(self) -> list[str]:
        """System names of the account's contact custom-field definitions."""
        wanted = {"filter": "related_entity_type=contact"}
        return [str(d["system_name"]) for d in self.every("/v1/schema/custom-fields", wanted)]

    def journeys(self) -> list[Mapping[str, Any]]:
        """Every journey of the account."""
        return self.every("/v1/journeys")

    def enroll(self, journey_id: str, contact_id: str) -> str:
        """Enrol a contact in a journey (already enrolled is fine); the enrolment's id."""
        contact = int(contact_id) if contact_id.isdigit() else contact_id
        answer = self.http.post(
            f"/v1/journeys/{journey_id}/enrollments",
            json={"contact": {"id": contact}},
            idempotent=True,  # a repeat answers `duplicate`
        ).json()
        return str(answer.get("id") or f"{journey_id}:{contact_id}")

    def unenroll(self, journey_id: str, contact_id: str) -> None:
        """End a contact's enrolment (``NotFound`` when it is not enrolled)."""
        self.http.delete(f"/v1/journeys/{journey_id}/enrollments/{contact_id}")

    def activity(self, contact_id: str) -> list[Mapping[str, Any]]:
        """A contact's activity feed (``/v1/activity``), every page."""
        found: list[Mapping[str, Any]] = []
        page: int | None = 1
        while page is not None:
            params = {
                "page[number]": str(page),
                "page[size]": str(PAGE),
                "filter": _filter({"contact_id": contact_id}),
            }
            body = self.http.get("/v1/activity", params=params).json()
            found += list(body.get("items") or [])
            following = (body.get("links") or {}).get("next")
            page = int(following) if following else None
        return found

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
