"""The application layer, plain Python (no Qt): the use cases the window and the command line share. The only
importer of ``keyhygiene.exchanges`` and ``keyhygiene.store`` (DESIGN.md, layers)."""
