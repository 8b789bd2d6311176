from accounts.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = "Import the server-name registry from a CSV file: hostname,status,replaced_by[,note]."
    kind = "servers"
    label = "server names"
