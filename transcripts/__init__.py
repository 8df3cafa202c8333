"""Installed as the package ``beicoder.data.transcripts`` (see setup.py), so that the wheel
carries the demo study and the gold files beside it and ``importlib.resources`` finds them;
no code here."""
