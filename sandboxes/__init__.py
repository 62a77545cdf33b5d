"""Local stand-ins for the platforms: a Telegram Bot API server and a Discord REST + gateway server.

The real SDKs talk to them unmodified; the tests, the benchmarks and `peerbridge demo` use them. They are
platform servers, not adapters: nothing here imports an SDK's client code, and the adapters never import this.
"""
