"""Living operations: publishing versions, fetching records, unattended updates."""
