from accounts.management.commands._importing import ImportCommand
from accounts.sheet_imports import SHEET_COLUMNS


class Command(ImportCommand):
    help = "Import mailboxes and their settings sheets from a CSV file: " + ",".join(SHEET_COLUMNS)
    kind = "sheets"
    label = "mailboxes"
