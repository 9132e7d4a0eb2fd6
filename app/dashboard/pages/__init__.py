"""Page layouts of the dashboard: built from data already loaded, never reading the database themselves."""
