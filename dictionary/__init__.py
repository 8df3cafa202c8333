"""Installed as the package ``beicoder.data.dictionary`` (see setup.py), so that the wheel
carries the YAML files beside it and ``importlib.resources`` finds them; no code here."""
