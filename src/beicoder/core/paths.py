"""Where the bundled dictionary and demo study live."""

from __future__ import annotations

import os
from pathlib import Path

from . import BeicoderError


def project_root() -> Path:
    """Return the folder holding ``dictionary/`` and ``transcripts/``.

    ``BEICODER_HOME`` wins when set; otherwise the checkout that an editable install
    (``pip install -e .``) points at, three levels above this file.

    Raises:
        BeicoderError: when neither place holds the bundled folders.
    """
    env = os.environ.get("BEICODER_HOME")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3])
    for cand in candidates:
        if (cand / "dictionary").is_dir() and (cand / "transcripts").is_dir():
            return cand
    raise BeicoderError(
        "bundled study not found: set BEICODER_HOME to the beicoder checkout "
        "(the folder with dictionary/ and transcripts/)"
    )


def default_dictionary() -> Path:
    """Path of the bundled micro-credit competency dictionary (YAML)."""
    return project_root() / "dictionary" / "micro_credit.yaml"


def demo_study() -> Path:
    """Path of the bundled demo study folder (transcripts, interviewees.csv, reference codings)."""
    return project_root() / "transcripts"
