"""Where the bundled dictionary and demo study live.

They are the packages ``beicoder.data.dictionary`` and ``beicoder.data.transcripts``, found
with :mod:`importlib.resources`: inside the installed wheel after ``pip install .``, in the
checkout's ``dictionary/`` and ``transcripts/`` folders after ``pip install -e .`` (setup.py maps
them). ``BEICODER_HOME``, when set to a folder holding both ``dictionary/`` and
``transcripts/``, is used instead.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from . import BeicoderError

DICTIONARY_PACKAGE = "beicoder.data.dictionary"
TRANSCRIPTS_PACKAGE = "beicoder.data.transcripts"


def _home() -> Path | None:
    """``BEICODER_HOME`` when it names a folder with ``dictionary/`` and ``transcripts/``."""
    env = os.environ.get("BEICODER_HOME")
    if env and (Path(env) / "dictionary").is_dir() and (Path(env) / "transcripts").is_dir():
        return Path(env)
    return None


def _bundled(package: str) -> Path:
    """The folder of the bundled data package ``package``.

    Raises:
        BeicoderError: the package is not installed, or not as plain files.
    """
    try:
        folder = resources.files(package)
    except ModuleNotFoundError:
        folder = None
    if not isinstance(folder, Path) or not folder.is_dir():
        raise BeicoderError(
            f"bundled data not found ({package}): reinstall beicoder, or set BEICODER_HOME to a "
            "folder with dictionary/ and transcripts/")
    return folder


def default_dictionary() -> Path:
    """Path of the bundled micro-credit competency dictionary (YAML)."""
    home = _home()
    return (home / "dictionary" if home else _bundled(DICTIONARY_PACKAGE)) / "micro_credit.yaml"


def demo_study(lang: str = "zh") -> Path:
    """Path of the bundled demo study folder (transcripts, interviewees.csv, reference codings,
    gold files); ``lang`` ``en``: the English demo study's folder (``transcripts/en``)."""
    home = _home()
    folder = home / "transcripts" if home else _bundled(TRANSCRIPTS_PACKAGE)
    return folder / "en" if lang == "en" else folder
