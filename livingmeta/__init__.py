"""livingmeta."""
