"""The data configuration app (S-3): models, pages and services. (Configuration as code, which
also carries the sync settings, lives above it in `sync.config_files`.)

Its pure core (`mapping.core`: types, compatibility, transforms, criteria, standard pairs) imports
no Django, no ORM and no HTTP; everything else in this package may.
"""
