"""Page rendering and the pages that belong to no single domain."""
