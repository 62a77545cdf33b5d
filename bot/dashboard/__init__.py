"""The staff dashboard: sign-in by one-time link, live queue/active/escalations, the rota grid, charts."""
