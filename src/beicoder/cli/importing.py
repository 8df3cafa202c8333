"""``beicoder import``: transcripts and REFI-QDA projects into the study."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import render
from .common import db_option


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--meta", type=click.Path(path_type=Path),
              help="interviewees.csv: interviewee, group, tenure_years, branch.")
@db_option
@click.option("--dictionary", "dictionary_path", type=click.Path(path_type=Path),
              help="Competency dictionary (YAML); default: the study's, or the bundled micro-credit one.")
@click.option("--interviewee-label", help="Speaker label of the interviewee when turns carry names (e.g. 唐鳳).")
@click.option("--pseudonymize", "names_path", type=click.Path(path_type=Path),
              help="names.csv (name,pseudonym): replace these personal names in the transcripts before storing them.")
@click.option("--speaker-label", "speaker_labels", multiple=True, metavar="NAME=ROLE",
              help="A speaker label of your transcripts and its role, interviewer or interviewee "
                   "(e.g. 研究员=interviewer); repeat for more.")
def import_cmd(files, meta, db, dictionary_path, interviewee_label, names_path, speaker_labels):
    """Import transcripts (.txt/.md in UTF-8, GB18030/GBK, Big5 or UTF-16; .docx, .odt,
    .srt, .vtt) into the study.

    Each file's interviewee is its name without extension. Files already imported (same
    sha256) are skipped. A file that cannot be read is reported and skipped; the exit status
    is then 2.

    A REFI-QDA project (.qdpx, e.g. from QualCoder, NVivo, ATLAS.ti or beicoder) is imported
    whole in one transaction: its sources become transcripts, its codings are placed on the
    passages they cover, under their coder's name. A codebook (.qdc) is not a transcript:
    'beicoder dictionary from-codebook' makes it a dictionary file.

    With --pseudonymize names.csv every listed name (longest first) is replaced in the text,
    the file name and the metadata before anything is stored, so passages and offsets are
    those of the pseudonymised text. The file's sha256 is kept: importing the file again is a
    no-op (it is not pseudonymised again with another names file).

    Speaker labels beicoder does not know (研究员, 客户经理) are given a role with
    --speaker-label NAME=interviewer|interviewee, or listed in the dictionary file under
    speaker_labels."""
    from ..core.importing import import_files
    from .progress import bar

    with bar("importing") as progress:
        report = import_files(db, files, meta=meta, dictionary_path=dictionary_path,
                              interviewee_label=interviewee_label, names_path=names_path,
                              speaker_labels=speaker_labels, progress=progress)
    render.import_report(report, db)
    if report.failed:
        sys.exit(2)
