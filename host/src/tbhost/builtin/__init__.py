"""Components the host ships, registered through the same entry points as third-party ones."""
