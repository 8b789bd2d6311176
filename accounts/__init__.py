"""Customers, people, mailboxes and their settings sheets, the server registry, imports."""
