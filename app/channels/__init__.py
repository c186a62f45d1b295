"""Email and SMS providers behind one interface."""
