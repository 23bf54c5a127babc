"""Traffic statistics from line crossings, by interval and on an H3 grid."""
