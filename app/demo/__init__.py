"""The demo data set (data demo): SPEC section 7, loaded by `inovasi seed demo`."""
