"""Offline lifecycle of the categorizer: data from the synthetic world, training, evaluation,
ONNX export. Never imported by serve/; heavy libraries are imported inside the functions."""
