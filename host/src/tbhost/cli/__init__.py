"""The ``tbhost`` command line."""
