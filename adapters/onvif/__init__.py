"""ONVIF cameras.

- `soap`: safe parsing of SOAP envelopes and faults (pure).
- `notifications`: PullMessagesResponse -> `Notification` records (pure).
- `parsers`: `Notification` -> `NormalizedEvent`, keyed by topic (pure).
- `device`: probe a camera (onvif-zeep-async) into a `CameraDescription`.
- `adapter`: `OnvifAdapter`, registered as the "onvif" entry point.
- `pullpoint`: a PullPoint event subscription that creates, pulls, renews, re-subscribes
  with bounded backoff and unsubscribes, speaking raw SOAP so the parsers see the XML.
"""
