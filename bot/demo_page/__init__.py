"""The sandbox chat page of `peerbridge demo`: a person's phone and the volunteers' workspace in one browser page.

The page talks only to its own small server (`server`), which forwards a fixed allow-list of control calls
to the Telegram sandbox (`forwarder`); `scenarios` plays scripted people and volunteers through the sandbox.
"""
