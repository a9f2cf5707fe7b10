"""Consistent online backups of the data directory's durable stores, and their restore.

``stores.py`` lists what is copied and in which order (the order matters; see there),
``take.py`` copies it while the platform runs, ``manifest.py`` describes and checks a backup,
``restore.py`` puts it back into an empty data directory, and ``erasures.py`` keeps the journal
that stops a restore from bringing back a customer forgotten after the backup was taken.
"""
