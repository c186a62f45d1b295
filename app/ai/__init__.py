"""Claude writer and classifier, our response cache, the offline fallback, cost."""
