"""One module per front door: each defines a dimod sampler."""
