"""Fields that several record types share, declared once with their header spellings.

A field of the same name means the same words everywhere (``SYNONYMS`` of the mapping
is keyed by name), so record types reuse these or ``dataclasses.replace`` them.
"""

from __future__ import annotations

from typing import Final

from crmsync.fields.spec import CanonicalField as Field
from crmsync.fields.spec import FieldType as F

EMAIL: Final = Field(
    "email", F.EMAIL, "E-mail", max_length=255, example="jane.doe@example.com", searchable=True,
    description="Normalised to lower case; the match key of upserts and dedup.",
    synonyms=("e mail", "email address", "e mail address", "mail", "email id", "primary email",
              "work email", "personal email", "business email", "courriel", "correo",
              "correo electronico", "email addr", "mail address", "emails", "electronic mail"),
    translations=("correo electronico", "email de contacto", "adresse e mail", "adresse email",
                  "e mail adresse", "emailadresse", "endereco de email", "endereco de e mail",
                  "correio electronico"),
)  # fmt: skip
PHONE: Final = Field(
    "phone", F.PHONE, max_length=50, example="+1 415 555 0100",
    description="Any spelling; imports and mappings store it in E.164 form.",
    synonyms=("telephone", "tel", "phone number", "mobile", "mobile phone", "mobile number",
              "cell", "cell phone", "cellphone", "home phone", "work phone", "contact number",
              "phone no", "ph", "telefono", "handy", "whatsapp", "mobile no", "tel no",
              "primary phone", "phone num", "telephone number", "cell number", "phones", "mob"),
    translations=("telefono movil", "movil", "celular", "telephone portable", "portable",
                  "numero de telephone", "telefon", "telefonnummer", "handynummer",
                  "mobiltelefon", "telefone", "telemovel", "numero de telefono"),
)  # fmt: skip
FIRST_NAME: Final = Field(
    "first_name", F.STRING, max_length=100, example="Jane", searchable=True,
    synonyms=("first", "first name", "given name", "forename", "fname", "christian name",
              "prenom", "nombre", "vorname", "f name", "name first", "first nm", "given"),
    translations=("nombres", "primer nombre", "prenom", "vorname", "nome", "primeiro nome",
                  "rufname"),
)  # fmt: skip
LAST_NAME: Final = Field(
    "last_name", F.STRING, max_length=100, example="Doe", searchable=True,
    synonyms=("last", "last name", "surname", "family name", "lname", "apellido",
              "apellidos", "nachname", "l name", "name last", "last nm", "second name"),
    translations=("apellido", "apellidos", "nom", "nom de famille", "nachname", "familienname",
                  "sobrenome", "apelido", "ultimo nome"),
)  # fmt: skip
STATUS: Final = Field(
    "status", F.STRING, max_length=50, example="NEW",
    synonyms=("status", "contact status", "lead status", "state of lead", "current status"),
    translations=("estatus", "situacion", "statut", "etat", "situacao", "estado del lead",
                  "estado lead"),
)  # fmt: skip
SOURCE: Final = Field(
    "source", F.STRING, max_length=100,
    synonyms=("source", "lead source", "origin", "channel", "referral source", "referred by",
              "how did you hear about us", "acquisition channel", "source of lead"),
    translations=("origen", "fuente", "origine", "quelle", "herkunft", "origem", "fonte",
                  "origen del lead", "source du prospect"),
)  # fmt: skip
ADDRESS_LINE1: Final = Field(
    "address_line1", F.STRING, "Address line 1", max_length=255,
    synonyms=("address", "street", "street address", "address 1", "address line 1",
              "addr1", "addr 1", "mailing street", "street1", "street 1", "mailing address",
              "home address", "address line1", "postal address"),
    translations=("direccion", "domicilio", "calle", "adresse", "rue", "strasse", "anschrift",
                  "endereco", "morada", "rua"),
)  # fmt: skip
CITY: Final = Field(
    "city", F.STRING, max_length=100,
    synonyms=("town", "locality", "municipality", "mailing city", "city town", "town city",
              "ciudad", "ville", "stadt", "suburb"),
    translations=("localidad", "poblacion", "commune", "ort", "wohnort", "cidade", "municipio"),
)  # fmt: skip
STATE: Final = Field(
    "state", F.STRING, "State or province", max_length=100,
    synonyms=("province", "region", "county", "state province", "st", "mailing state",
              "state region", "prov"),
    translations=("provincia", "estado provincia", "departement", "bundesland", "distrito"),
)  # fmt: skip
POSTAL_CODE: Final = Field(
    "postal_code", F.STRING, max_length=20,
    synonyms=("zip", "zip code", "zipcode", "postcode", "post code", "postal", "plz",
              "pin code", "mailing zip", "mailing postal code", "zip postal code",
              "postal zip", "zip postcode"),
    translations=("codigo postal", "cp", "code postal", "postleitzahl", "cep"),
)  # fmt: skip
COUNTRY: Final = Field(
    "country", F.STRING, max_length=100, example="US",
    synonyms=("nation", "country code", "country region", "mailing country", "pais", "land"),
    translations=("pays", "staat", "pais de residencia"),
)  # fmt: skip
OWNER: Final = Field(
    "owner", F.STRING, max_length=255,
    description="The CRM user who owns the record (an e-mail or a name).",
    synonyms=("contact owner", "account owner", "record owner", "assigned to", "sales rep",
              "salesperson", "rep", "account manager", "owned by", "owner name", "deal owner"),
    translations=("propietario", "responsable", "proprietaire", "verantwortlich", "besitzer",
                  "responsavel", "asesor", "conseiller", "berater", "corredor asignado"),
)  # fmt: skip
NAME: Final = Field(
    "name", F.STRING, max_length=255, required=True, example="Acme Mortgage", searchable=True,
    synonyms=("deal name", "opportunity name", "title", "deal title", "opportunity", "deal",
              "company name", "organization name", "account name", "business name"),
)  # fmt: skip


def reference(name: str, target: str, synonyms: tuple[str, ...] = ()) -> Field:
    """A field holding the crmsync id of a ``target`` record."""
    one = target[:-3] + "y" if target.endswith("ies") else target.removesuffix("s")
    return Field(
        name, F.STRING, f"{one.capitalize()} id", relation=target, synonyms=synonyms,
        description=f"The crmsync id of a record of `{target}`.",
    )  # fmt: skip


CONTACT_ID: Final = reference(
    "contact_id", "contacts",
    synonyms=("contact id", "contact", "person id", "client id", "customer id",
              "primary contact", "contact ref", "person"),
)  # fmt: skip
COMPANY_ID: Final = reference("company_id", "companies")
LEAD_ID: Final = reference("lead_id", "leads")
DEAL_ID: Final = reference("deal_id", "deals")
