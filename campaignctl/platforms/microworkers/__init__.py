"""The microworkers platform: its provider (read, plan, execute), its results reviewer and its import/export."""
