"""The Train panel: the bundled runner, run from the app in a child process (issue 16).

builder/gui/train/dock.py docks it on a window; panel.py is the panel itself, run_views.py the
tabs that show runs and checks.
"""
