"""The application layer (plain Python, no Qt): owns the vault backend and the use cases. See DESIGN.md."""
