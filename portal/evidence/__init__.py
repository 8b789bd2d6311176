"""Evidence from the mail servers' logs: the shippers' endpoint and the staff forecast."""
