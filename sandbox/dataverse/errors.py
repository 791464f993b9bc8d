"""Errors in the Web API's shape: {"error": {"code": "<hex or empty>", "message": "..."}} (S1).

Codes and messages come from the Dataverse error-code list (S29,
https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes)
and the client-error troubleshooting page (S30). Where the public pages show a code as empty
(412 concurrency/upsert answers, S12) the code stays empty.
"""

from __future__ import annotations


class DataverseError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def payload(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def segment_not_found(segment: str) -> DataverseError:
    return DataverseError(404, "0x8006088a", f"Resource not found for the segment '{segment}'.")


def property_not_found(name: str, logical: str) -> DataverseError:
    return DataverseError(
        400,
        "0x0",
        f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{logical}'.",
    )


def record_not_found(logical: str, record_id: str) -> DataverseError:
    return DataverseError(404, "0x80040217", f"{logical} With Id = {record_id} Does Not Exist")


def bad_request(message: str, code: str = "0x0") -> DataverseError:
    return DataverseError(400, code, message)


def payload_error(entity_set: str, inner: str) -> DataverseError:
    """The deserialization error wrapper S30 shows for bad request bodies."""
    return DataverseError(
        400,
        "0x80048d19",
        f"Error identified in Payload provided by the user for Entity :'{entity_set}', For more "
        "information on this error please follow this help link "
        f"https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : {inner}",
    )


def no_resource(url: str) -> DataverseError:
    """Wrong HTTP method for a function/action (S30: POST WhoAmI)."""
    return DataverseError(
        404, "", f"No HTTP resource was found that matches the request URI '{url}'."
    )


def method_not_allowed(
    message: str = "The requested resource does not support http method.",
) -> DataverseError:
    return DataverseError(405, "0x80060888", message)


def validation(message: str, code: str = "0x80044331") -> DataverseError:
    return DataverseError(400, code, f"A validation error occurred.  {message}")


def bad_key(logical: str) -> DataverseError:
    return bad_request(
        "The key in the request URI is not valid for resource "
        f"'Microsoft.Dynamics.CRM.{logical}'. Ensure that the names and number of key "
        "properties match the declared or alternate key properties for the resource."
    )


def tracking_option(option: str) -> DataverseError:
    """S9: $filter/$orderby/$expand/$top can't be combined with change tracking."""
    return bad_request(
        f'The "{option}" query parameter isn\'t supported when Change Tracking is enabled.'
    )


def tracking_disabled(logical: str) -> DataverseError:
    return DataverseError(400, "0x80072491", f"Entity {logical} isn't enabled for change tracking.")


def lookup_value_write() -> DataverseError:
    return bad_request(
        "CRM do not support direct update of Entity Reference properties, "
        "Use Navigation properties instead."
    )


def invalid_property(name: str, logical: str) -> DataverseError:
    """S30: an unknown plain property in a request body."""
    return DataverseError(
        400,
        "0x0",
        "An error occurred while validating input parameters: Microsoft.Crm.CrmException: "
        f"Invalid property '{name}' was found in entity 'Microsoft.Dynamics.CRM.{logical}'. "
        "---> Microsoft.OData.ODataException: Does not support untyped value in non-open type.",
    )


def undeclared_property(entity_set: str, name: str) -> DataverseError:
    """S30: '<column>@odata.bind' where <column> is no navigation property."""
    return payload_error(
        entity_set,
        f"Microsoft.OData.ODataException: An undeclared property '{name}' which only has "
        "property annotations in the payload but no property value was found in the payload. "
        "In OData, only declared navigation properties and declared named streams can be "
        "represented as properties without values.",
    )


def not_convertible(entity_set: str, value: object, edm: str) -> DataverseError:
    return payload_error(
        entity_set,
        f"Microsoft.OData.ODataException: Cannot convert the literal '{value}' to the expected "
        f"type '{edm}'.",
    )


def invalid_status(status: object, state: str, logical: str, record_id: object) -> DataverseError:
    return DataverseError(
        400,
        "0x80040278",
        f"{status} is not a valid status code for state code {state} on {logical} "
        f"with Id {record_id}.",
    )
