"""Result documents once written: find and read them, compare two, and write a report page."""
