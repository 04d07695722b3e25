"""The TorchCanvas application: the command line, the desktop app and the training runner.

The top layer: it may import every other package; nothing imports it.
"""
