"""fonds: a searchable archive of French public-policy documents."""

__version__ = "0.1.0"
