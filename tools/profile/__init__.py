"""The profile: py-spy over a worker draining a backlog (`make profile`)."""
