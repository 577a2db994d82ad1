"""The sustained-load run: one worker under load for minutes (`make soak`)."""
