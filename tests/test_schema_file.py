"""The committed SDL is the schema the service serves."""

from __future__ import annotations

from pathlib import Path

from schema.root import export_sdl

ROOT = Path(__file__).resolve().parent.parent


def test_schema_graphql_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == export_sdl(), (
        "schema.graphql is out of date: run `mailtab export-schema > schema.graphql` and commit it"
    )


def test_contract_names_are_present() -> None:
    sdl = export_sdl()
    for name in [
        "enum MailProviderCode",
        "enum SmtpSecurity",
        "enum MailTabPrerequisite",
        "type MailProvider",
        "type MailTab",
        "enum OutletKind",
        "type Firm",
        "type Outlet",
        "input FirmInput",
        "input OutletInput",
        "interface UserError",
        "createFirm(input: FirmInput!): CreateFirmPayload!",
        "createOutlet(input: OutletInput!): CreateOutletPayload!",
        "deleteFirm(id: ID!): DeleteFirmPayload!",
        "deleteOutlet(id: ID!): DeleteOutletPayload!",
    ]:
        assert name in sdl, name
