"""The AI tools' own usage: clients for their admin APIs and the importers that store it."""
