"""Every statistics test reads the demo data set (SPEC section 7)."""

from tests._demo import connection, demo_connection

__all__ = ["connection", "demo_connection"]
