"""The data configuration app (S-3): models, pages, services and config files.

Its pure core (`mapping.core`: types, compatibility, transforms, criteria, standard pairs) imports
no Django, no ORM and no HTTP; everything else in this package may.
"""
