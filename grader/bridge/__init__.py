"""The plain-data bridge between the trusted harness and a sandboxed submission."""
