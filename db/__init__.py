"""The data layer: typed models, engine/session factories that take a URL, read queries, seeding."""
