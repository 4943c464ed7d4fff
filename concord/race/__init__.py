"""The race engine (to be filled by the race-engine work)."""
