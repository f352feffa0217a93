"""What happens after a match: shown, joined, came to a meeting, still coming after
eight weeks, recorded by the kind of reasons given and without names, and published
to organisers with small numbers suppressed (docs/matching.md, "Outcomes")."""
