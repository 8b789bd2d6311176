"""Migration campaigns: models, the campaign's life (targets, links, messages), sending,
tasks and the staff and link pages."""
