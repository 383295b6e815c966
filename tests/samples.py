"""The sample files the county receives (fixtures/samples), with the report they must give."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
