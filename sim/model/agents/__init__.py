"""Mesa agents of the model: consumers (columnar), brands, venues and the platform."""
