"""The application layer: the command line (one module per command), output folders and
manifests, the report and its figures, the dashboard."""
