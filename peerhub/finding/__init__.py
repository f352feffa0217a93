"""Finding a group: needs in, ranked groups with reasons out; unmet demand; waiting lists."""
