"""Locking strategies as first-class objects (to be filled by the race-engine work)."""
