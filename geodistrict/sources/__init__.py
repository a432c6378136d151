"""Data sources: OpenStreetMap extracts and the district's own surveys."""
