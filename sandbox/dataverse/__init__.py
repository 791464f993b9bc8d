"""A local stand-in for Dynamics 365 / Dataverse Web API v9.2 and the Entra token endpoint.

Built to Microsoft's public documentation (the S, I and § marks in the modules' comments point
to the Sources of README.md in this package, which gives each page's URL), not to any client
of this project.
"""
