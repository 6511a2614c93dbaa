"""Revenium FinOps Showcase helper library."""
