"""ONVIF cameras.

- `soap`: safe parsing of SOAP envelopes and faults (pure).
- `notifications`: PullMessagesResponse -> `Notification` records (pure).
- `parsers`: `Notification` -> `NormalizedEvent`, keyed by topic (pure).

The device client and the PullPoint subscription come with the network code.
"""
