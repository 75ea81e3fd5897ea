"""Pages for institution staff: their profile, classes and filing."""
