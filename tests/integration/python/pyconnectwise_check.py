"""Drive the ConnectWise simulator with pyconnectwise, a real third-party ConnectWise Manage client.

pyconnectwise was written against real ConnectWise: if it can look up the codebase, list with
conditions and paging, create and patch records, and read errors through its own exception classes,
the simulator behaves like ConnectWise where those clients look.

Usage: python pyconnectwise_check.py HOST:PORT COMPANY PUBLIC_KEY PRIVATE_KEY CLIENT_ID
Prints one JSON object of findings and exits 0, or prints the failed check and exits 1.
"""

import json
import sys

from pyconnectwise import ConnectWiseManageAPIClient
from pyconnectwise.exceptions import (
    AuthenticationFailedException,
    MalformedRequestException,
    NotFoundException,
    ObjectExistsError,
)


class PlainHttpClient(ConnectWiseManageAPIClient):
    """pyconnectwise hard-codes https; the simulator serves plain http on loopback."""

    def _get_url(self) -> str:
        return f"http://{self.manage_url}/{self.codebase.strip('/')}/apis/3.0"

    def _try_get_codebase_from_api(self, manage_url, company_name, headers):
        url = f"http://{manage_url}/login/companyinfo/{company_name}"
        return self._make_request("GET", url, headers=headers).json().get("Codebase")


def expect(condition, what):
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)


def main():
    host, company, public_key, private_key, client_id = sys.argv[1:6]
    client = PlainHttpClient(company, host, client_id, public_key, private_key)
    found = {"codebase": client.codebase}
    companies = client.company.companies

    # Create, with the body shape public integrations send: ConnectWise's validation requires the
    # primary site to be named on create.
    created = []
    for n in range(7):
        body = {
            "identifier": f"PyCheck{n}",
            "name": f"Py Check \"{n}\" O'Brien & Sons",
            "addressLine1": f"{n} Main Street",
            "city": "Springfield",
            "site": {"name": "Main"},
        }
        created.append(companies.post(data=body))
    expect(all(c.id for c in created), "every POST returned the created record with an id")
    found["created_ids"] = [c.id for c in created]
    found["primary_sites"] = [c.site.name if c.site else None for c in created]

    # The first filter most real clients send: every company created by POST is not deleted.
    live = companies.get(params={"conditions": "deletedFlag=false", "pageSize": 1000})
    found["not_deleted_ids"] = sorted(c.id for c in live)

    # Without a site, the create is refused.
    try:
        companies.post(data={"identifier": "PyCheckNoSite", "name": "No site", "city": "Springfield"})
        expect(False, "a company create without a site is refused")
    except MalformedRequestException:
        found["without_site"] = "MalformedRequestException"

    # Duplicate identifier -> ObjectExistsError, through pyconnectwise's own 400 InvalidObject parsing.
    try:
        companies.post(
            data={"identifier": "PyCheck0", "name": "again", "city": "Springfield", "site": {"name": "Main"}}
        )
        expect(False, "a duplicate identifier is refused")
    except ObjectExistsError:
        found["duplicate"] = "ObjectExistsError"

    # Conditions with quotes and an apostrophe, paging through Link headers at page size 3.
    params = {"conditions": 'identifier like "PyCheck%" and name contains "O\'Brien"', "orderBy": "id desc"}
    page = companies.paginated(1, 3, params)
    seen = [c.identifier for c in page.all()]
    expect(len(seen) == 7, f"paging followed every page: saw {seen}")
    expect(seen[0] == "PyCheck6", f"orderBy id desc holds across pages: {seen}")
    found["paged"] = seen

    one = companies.get(params={"conditions": 'name = "Py Check \\"3\\" O\'Brien & Sons"'})
    expect([c.identifier for c in one] == ["PyCheck3"], f"escaped quotes match exactly one: {one}")

    # PATCH with pyconnectwise's patch body, then read back.
    target = created[0].id
    patched = companies.id(target).patch(data=[{"op": "replace", "path": "name", "value": "Renamed"}])
    expect(patched.name == "Renamed", "PATCH returns the full updated record")
    expect(companies.id(target).get().name == "Renamed", "GET after PATCH shows the change")
    expect(companies.count.get().count >= 7, "/count answers")

    # Errors, through pyconnectwise's own exception mapping.
    try:
        companies.id(999999).get()
        expect(False, "an unknown id is a 404")
    except NotFoundException:
        found["not_found"] = "NotFoundException"
    try:
        companies.get(params={"conditions": "name = = 'x'"})
        expect(False, "a malformed condition is a 400")
    except MalformedRequestException:
        found["malformed"] = "MalformedRequestException"
    try:
        # No codebase= here: pyconnectwise 0.6.1.2 never sets self.codebase when one is passed in, so
        # the client looks it up like any user's would (the lookup needs no keys).
        bad = PlainHttpClient(company, host, client_id, public_key, "wrong-private-key")
        bad.company.companies.get()
        expect(False, "wrong keys are a 401")
    except AuthenticationFailedException:
        found["unauthorized"] = "AuthenticationFailedException"

    found["export"] = export_records(client)
    print(json.dumps(found))


def export_records(client):
    """The daily export's records through pyconnectwise: a catalog item, an agreement and an
    addition, created and read back through its own models."""
    out = {}
    company = client.company.companies.post(
        data={"identifier": "PyExport", "name": "Py Export", "city": "Springfield", "site": {"name": "Main"}}
    )
    contact = client.company.contacts.post(data={"firstName": "Ana", "company": {"id": company.id}})
    catalog = client.procurement.catalog
    item = catalog.post(
        data={
            "identifier": "PY-M365",
            "description": "Microsoft 365 Business Premium",
            "customerDescription": "Microsoft 365 Business Premium, per user",
            "subcategory": {"name": "Cloud Subscriptions"},
            "type": {"name": "Non-Inventory"},
            "unitOfMeasure": {"name": "User"},
            "price": 22.0,
            "cost": 18.5,
        }
    )
    out["item"] = {"id": item.id, "category": item.category.name, "product_class": str(item.product_class)}
    read = catalog.get(params={"conditions": 'identifier in ("PY-M365","NOPE")', "pageSize": 1000})
    expect([i.id for i in read] == [item.id], f"the catalog item is found by identifier in (...): {read}")
    try:
        catalog.post(
            data={
                "identifier": "py-m365",
                "description": "again",
                "customerDescription": "again",
                "subcategory": {"id": 6},
                "type": {"id": 2},
            }
        )
        expect(False, "a second catalog item with the same identifier is refused")
    except ObjectExistsError:
        out["duplicate_item"] = "ObjectExistsError"

    agreements = client.finance.agreements
    agreement = agreements.post(
        data={"name": "Py Export licensing", "type": {"name": "Licensing"}, "company": {"id": company.id},
              "contact": {"id": contact.id}}
    )
    out["agreement_status"] = str(agreement.agreement_status)
    additions = agreements.id(agreement.id).additions
    added = additions.post(data={"product": {"id": item.id}, "billCustomer": "Billable", "quantity": 12})
    again = additions.id(added.id).get()
    out["addition"] = {
        "id": again.id,
        "product": again.product.identifier,
        "ext_price": again.ext_price,
        "uom": again.uom,
        "agreement_id": again.agreement_id,
    }
    listed = additions.get(params={"conditions": "billCustomer = 'Billable'"})
    expect([a.id for a in listed] == [added.id], f"the addition lists under its agreement: {listed}")
    try:
        agreements.id(999999).additions.get()
        expect(False, "the additions of a missing agreement are a 404")
    except NotFoundException:
        out["missing_agreement"] = "NotFoundException"
    return out


if __name__ == "__main__":
    main()
