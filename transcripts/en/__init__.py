"""The bundled English demo study (a data package: see setup.py)."""
