"""The querysets and managers of the RA's models, one module per module of enrollment.models."""
