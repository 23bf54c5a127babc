"""Camera adapters: normalize ONVIF/RTSP/VLC/snapshot cameras. Never import `hub`."""
