"""Beside the flow: check a user's model, analyse gradients, draw loss surfaces."""
