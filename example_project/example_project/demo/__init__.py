"""The demo's data: accounts, devices and nine days of history, made by the real app.

Installed by the demo settings only (``example_project.settings``), never by
``settings_production``: ``manage.py seed_demo`` creates accounts whose
passwords are printed on the terminal.
"""
