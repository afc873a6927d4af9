"""Running the cleaning core over many pages: worker processes and the dedup loop."""
