"""Inference: from model outputs on long signals to waves and intervals."""
