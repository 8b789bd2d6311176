"""Probing the company's mail servers (ports, STARTTLS, TLS versions,
certificates) and the findings computed from sheets, registry and probes."""
