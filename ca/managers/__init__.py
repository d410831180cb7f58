"""The querysets and managers of the CA's models, one module per module of ca.models."""
