"""Platform adapters: the only code that imports a platform SDK."""
