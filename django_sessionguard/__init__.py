"""django-sessionguard: see, limit and control every Django session."""

__version__ = "0.1.0.dev0"
