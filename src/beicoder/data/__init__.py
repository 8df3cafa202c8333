"""The bundled data: ``beicoder.data.dictionary`` (the competency dictionaries) and
``beicoder.data.transcripts`` (the demo study and the gold files).

Their files live in the top-level ``dictionary/`` and ``transcripts/`` folders of the source
tree; setup.py maps those folders into this package, so a wheel carries them here and an
editable install reads them in the checkout. Find them with :mod:`beicoder.core.paths`.
"""
