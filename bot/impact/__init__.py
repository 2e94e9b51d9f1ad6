"""Delivery impact: pull requests from GitHub, rollout waves, comparisons."""
