"""The end-to-end demo of the platform on the local stack."""
