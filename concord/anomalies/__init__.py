"""Isolation anomaly proofs (to be filled by the anomalies work)."""
