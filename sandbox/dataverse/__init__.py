"""A local stand-in for Dynamics 365 / Dataverse Web API v9.2 and the Entra token endpoint.

Built to the public documentation (see ../../shared/reference/dataverse-api.md and the links in
the modules' comments), not to any client of this project.
"""
