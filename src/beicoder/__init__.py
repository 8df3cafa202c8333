"""beicoder: a terminal workbench for coding behavioural event interview (BEI) transcripts."""

__version__ = "0.1.0"
