"""What a probe's error field can say beyond the network's own errors — apart from
`checks.probes` so that what only needs the words (the findings' rules) does not load the
probe's TLS and network machinery."""

# The error of an endpoint the probe did not connect to: its port is not a mail port,
# or its name leads to an internal address no registered server has.
NOT_ALLOWED = "address-not-allowed"
