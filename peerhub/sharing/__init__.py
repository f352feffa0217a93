"""What a person shares with whom, and their crisis plan (docs/sharing.md)."""
