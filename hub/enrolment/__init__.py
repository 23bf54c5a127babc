"""Enrolment of private cameras: a business offers its cameras under a consent tier."""
