"""Where keys live: secrets in the OS keychain (keychain.py), metadata in SQLite (database.py, repository.py)."""
