"""The training runner: trains any nn.Module on a project's data (torch, no Qt)."""
