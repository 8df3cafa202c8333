"""The part of the build that pyproject.toml cannot say: the top-level ``dictionary/`` and
``transcripts/`` folders become the packages ``beicoder.data.dictionary`` and
``beicoder.data.transcripts``. A wheel (``pip install .``) then carries their files inside
``beicoder/data/``, and an editable install (``pip install -e .``) maps the same package names
onto the folders of the checkout, so edits there are seen at once. Each folder holds an
``__init__.py`` because setuptools' editable finder maps only regular packages nested in
``beicoder``. The files they carry are listed in pyproject.toml
([tool.setuptools.package-data]), as is everything else.
"""

from setuptools import find_namespace_packages, setup

DATA = {"beicoder.data.dictionary": "dictionary", "beicoder.data.transcripts": "transcripts",
        "beicoder.data.transcripts.en": "transcripts/en"}

setup(
    # as pyproject's [tool.setuptools.packages.find] did: every package under src/
    packages=find_namespace_packages("src", include=["beicoder*"]) + list(DATA),
    package_dir={"": "src", **DATA},
    # their files: [tool.setuptools.package-data] in pyproject.toml
)
