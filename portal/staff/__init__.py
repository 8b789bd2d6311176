"""The staff pages, by subject: mailboxes and customers, endpoints, findings, imports,
mail domains (campaigns and the audit log live in their own rooms)."""
