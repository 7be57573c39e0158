"""The offline demo: a local replica of the resource centre's WordPress site."""
