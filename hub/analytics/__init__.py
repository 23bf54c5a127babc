"""Video analytics: object detection, tracking and vehicle attributes on camera frames."""
